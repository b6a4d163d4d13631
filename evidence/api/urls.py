from django.urls import path

from evidence.api import views

urlpatterns = [
    path("batches/<int:pk>/evidence/", views.BatchEvidence.as_view(), name="api-batch-evidence"),
    path("evidence/<int:pk>/", views.EvidenceDetail.as_view(), name="api-evidence-detail"),
    path("batches/<int:pk>/requests/", views.BatchRequests.as_view(), name="api-batch-requests"),
    path("requests/<int:pk>/", views.RequestDetail.as_view(), name="api-request-detail"),
]
