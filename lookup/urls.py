from django.urls import path

from lookup import views

urlpatterns = [
    path("lookup/", views.serial_lookup_page, name="serial-lookup"),
    path("lookup/bulk/", views.serial_lookup_bulk, name="serial-lookup-bulk"),
]
