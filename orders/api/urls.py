from django.urls import path

from orders.api import approvals, views

urlpatterns = [
    path("orders/", views.OrderList.as_view(), name="api-order-list"),
    path("orders/<int:pk>/", views.OrderDetail.as_view(), name="api-order-detail"),
    path("orders/<int:pk>/batches/", views.OrderBatchList.as_view(), name="api-order-batches"),
    path("batches/<int:pk>/", views.BatchDetail.as_view(), name="api-batch-detail"),
    path("approvals/", approvals.ApprovalList.as_view(), name="api-approval-list"),
    path("approvals/<int:pk>/", approvals.ApprovalDetail.as_view(), name="api-approval-detail"),
    path("gates/", approvals.GateList.as_view(), name="api-gate-list"),
    path("gates/<int:pk>/", approvals.GateDetail.as_view(), name="api-gate-detail"),
    path("gates/<int:pk>/release/", approvals.GateRelease.as_view(), name="api-gate-release"),
    path("gates/<int:pk>/payments/", approvals.GatePayments.as_view(), name="api-gate-payments"),
]
