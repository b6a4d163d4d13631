from django.urls import path

from evidence.api import views

urlpatterns = [
    path("batches/<int:pk>/evidence/", views.BatchEvidence.as_view(), name="api-batch-evidence"),
    path("evidence/<int:pk>/", views.EvidenceDetail.as_view(), name="api-evidence-detail"),
]
