from django.urls import path

from approvals.api import gates, views

urlpatterns = [
    path("approvals/", views.ApprovalList.as_view(), name="api-approval-list"),
    path("approvals/<int:pk>/", views.ApprovalDetail.as_view(), name="api-approval-detail"),
    path("gates/", gates.GateList.as_view(), name="api-gate-list"),
    path("gates/<int:pk>/", gates.GateDetail.as_view(), name="api-gate-detail"),
    path("gates/<int:pk>/release/", gates.GateRelease.as_view(), name="api-gate-release"),
    path("gates/<int:pk>/payments/", gates.GatePayments.as_view(), name="api-gate-payments"),
]
