from django.urls import path

from lookup.api import views

urlpatterns = [
    path("lookup/", views.SerialLookup.as_view(), name="api-serial-lookup"),
    path("lookup/bulk/", views.SerialLookupBulk.as_view(), name="api-serial-lookup-bulk"),
]
