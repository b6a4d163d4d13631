from django.urls import path

from approvals import exports, finance_views, open_point_views, review_views, views

urlpatterns = [
    path("orders/<int:pk>/approvals/", views.order_approvals, name="order-approvals"),
    path("orders/<int:pk>/gates/", views.order_gate_create, name="order-gate-create"),
    path("batches/<int:pk>/approvals/", views.batch_approvals, name="batch-approvals"),
    path(
        "batches/<int:pk>/approvals/passkey/",
        views.batch_approval_passkey,
        name="batch-approval-passkey",
    ),
    path(
        "orders/<int:pk>/approvals/passkey/",
        views.order_approval_passkey,
        name="order-approval-passkey",
    ),
    path("batches/<int:pk>/gates/", views.batch_gate_create, name="batch-gate-create"),
    path("batches/<int:pk>/review/", review_views.batch_review_page, name="batch-review"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval-detail"),
    path("finance/", finance_views.finance_board, name="finance-board"),
    path("finance/gates.csv", finance_views.finance_board_csv, name="finance-board-csv"),
    path("finance/payments.csv", exports.payments_csv, name="finance-payments-csv"),
    path("orders/<int:pk>/approvals.csv", exports.order_approvals_csv, name="order-approvals-csv"),
    path("gates/<int:pk>/release/", finance_views.gate_release, name="gate-release"),
    path(
        "gates/<int:pk>/release/passkey/",
        finance_views.gate_release_passkey,
        name="gate-release-passkey",
    ),
    path("gates/<int:pk>/payments/", finance_views.gate_payments, name="gate-payments"),
    path("payments/<int:pk>/document/", finance_views.payment_document, name="payment-document"),
    path("open-points/<int:pk>/close/", open_point_views.open_point_close, name="open-point-close"),
]
