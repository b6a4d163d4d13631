from django.urls import path

from dossier import views

urlpatterns = [
    path("orders/<int:pk>/dossier/", views.order_dossier, name="order-dossier"),
]
