from django.urls import path, re_path

from lookup import public_views, views

urlpatterns = [
    path("lookup/", views.serial_lookup_page, name="serial-lookup"),
    path("lookup/bulk/", views.serial_lookup_bulk, name="serial-lookup-bulk"),
    path("lookup/label-qr.svg", views.label_qr, name="label-qr"),
    path("lookup/public-checks/", public_views.public_checks_page, name="public-checks"),
    # GS1 Digital Link: /01/{gtin}/21/{serial}, with the key qualifiers the standard allows
    # before the serial (22 CPV, 10 batch/lot: /01/{gtin}/10/{lot}/21/{serial}) and any
    # attribute or query after it.
    path("01/<str:gtin>/21/<path:serial>", public_views.digital_link, name="digital-link"),
    re_path(
        r"^01/(?P<gtin>[^/]+)/(?:22/[^/]+/)?10/[^/]+/21/(?P<serial>.+)$",
        public_views.digital_link,
        name="digital-link-qualified",
    ),
]
