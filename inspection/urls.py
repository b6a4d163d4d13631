from django.urls import path

from inspection import views

urlpatterns = [
    path("batches/<int:pk>/inspection/", views.batch_inspections, name="batch-inspections"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection-detail"),
    path(
        "inspections/<int:pk>/checklist/",
        views.inspection_checklist,
        name="inspection-checklist",
    ),
    path(
        "inspections/<int:pk>/blocked-steps/",
        views.inspection_blocked_step,
        name="inspection-blocked-step",
    ),
    path(
        "inspections/<int:pk>/carton-scans/",
        views.inspection_carton_scans,
        name="inspection-carton-scans",
    ),
    path("sampled-units/<int:pk>/", views.sampled_unit, name="sampled-unit"),
]
