from django.urls import path

from approvals.api import views

urlpatterns = [
    path("approvals/", views.ApprovalList.as_view(), name="api-approval-list"),
    path("approvals/<int:pk>/", views.ApprovalDetail.as_view(), name="api-approval-detail"),
    path("gates/", views.GateList.as_view(), name="api-gate-list"),
    path("gates/<int:pk>/", views.GateDetail.as_view(), name="api-gate-detail"),
    path("gates/<int:pk>/release/", views.GateRelease.as_view(), name="api-gate-release"),
    path("gates/<int:pk>/payments/", views.GatePayments.as_view(), name="api-gate-payments"),
]
