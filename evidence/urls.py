from django.urls import path

from evidence import views

urlpatterns = [
    path("batches/<int:pk>/evidence/", views.batch_evidence, name="batch-evidence"),
    path("batches/<int:pk>/evidence/upload/", views.evidence_upload, name="evidence-upload"),
    path(
        "batches/<int:pk>/evidence/requirements/",
        views.evidence_requirements,
        name="evidence-requirements",
    ),
    path("evidence/<int:pk>/", views.evidence_detail, name="evidence-detail"),
    path("evidence/<int:pk>/file/", views.evidence_file, name="evidence-file"),
    path("evidence/<int:pk>/thumbnail/", views.evidence_thumbnail, name="evidence-thumbnail"),
    path("evidence/<int:pk>/replace/", views.evidence_replace, name="evidence-replace"),
    path("batches/<int:pk>/requests/", views.batch_requests, name="batch-requests"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("statements/<int:pk>/review/", views.statement_review, name="statement-review"),
    path(
        "orders/<int:pk>/responsibilities/",
        views.order_responsibilities,
        name="order-responsibilities",
    ),
]
