from django.urls import path

from inspection.api import views

urlpatterns = [
    path(
        "batches/<int:pk>/inspections/",
        views.BatchInspections.as_view(),
        name="api-batch-inspections",
    ),
    path("inspections/<int:pk>/", views.InspectionDetail.as_view(), name="api-inspection-detail"),
    path("sampled-units/<int:pk>/results/", views.UnitResults.as_view(), name="api-unit-results"),
]
