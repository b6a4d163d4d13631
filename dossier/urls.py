from django.urls import path

from dossier import epcis_views, views

urlpatterns = [
    path("batches/<int:pk>/epcis.jsonld", epcis_views.batch_epcis, name="batch-epcis"),
    path("orders/<int:pk>/dossier/", views.order_dossier, name="order-dossier"),
    path(
        "orders/<int:pk>/dossier/progress/",
        views.order_dossier_progress,
        name="order-dossier-progress",
    ),
    path(
        "orders/<int:pk>/dossier/exports/",
        views.order_dossier_export,
        name="order-dossier-export",
    ),
    path(
        "orders/<int:pk>/dossier/exports/<int:export>/download/",
        views.order_dossier_download,
        name="order-dossier-download",
    ),
]
