from django.urls import path

from orders import approval_views, views

urlpatterns = [
    path("orders/", views.order_list, name="order-list"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order-edit"),
    path("orders/<int:pk>/timeline/", views.order_timeline, name="order-timeline"),
    path("orders/<int:pk>/approvals/", approval_views.order_approvals, name="order-approvals"),
    path("orders/<int:pk>/gates/", approval_views.order_gate_create, name="order-gate-create"),
    path("orders/<int:pk>/batches/new/", views.batch_create, name="batch-create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/edit/", views.batch_edit, name="batch-edit"),
    path("batches/<int:pk>/approvals/", approval_views.batch_approvals, name="batch-approvals"),
    path("batches/<int:pk>/gates/", approval_views.batch_gate_create, name="batch-gate-create"),
    path("approvals/<int:pk>/", approval_views.approval_detail, name="approval-detail"),
    path("finance/", approval_views.finance_board, name="finance-board"),
    path("gates/<int:pk>/release/", approval_views.gate_release, name="gate-release"),
    path("gates/<int:pk>/payments/", approval_views.gate_payments, name="gate-payments"),
    path("payments/<int:pk>/document/", approval_views.payment_document, name="payment-document"),
]
