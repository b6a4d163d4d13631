from django.urls import path

from serials import exception_views, life_views, views

urlpatterns = [
    path(
        "batches/<int:pk>/serial-lists/upload/",
        views.serial_list_upload,
        name="serial-list-upload",
    ),
    path(
        "batches/<int:pk>/serial-lists/check/",
        views.serial_list_check,
        name="serial-list-check",
    ),
    path(
        "batches/<int:pk>/serial-list-template.csv",
        views.serial_list_template,
        name="serial-list-template",
    ),
    path("batches/<int:pk>/exceptions/", exception_views.batch_exceptions, name="batch-exceptions"),
    path(
        "batches/<int:pk>/exceptions.csv",
        exception_views.batch_exceptions_csv,
        name="batch-exceptions-csv",
    ),
    path(
        "exception-attachments/<int:pk>/",
        exception_views.exception_attachment,
        name="exception-attachment",
    ),
    path(
        "batches/<int:pk>/serials/accept/",
        views.batch_serials_accept,
        name="batch-serials-accept",
    ),
    path("batches/<int:pk>/serial-life/", life_views.batch_serial_life, name="batch-serial-life"),
    path("serial-life/<int:pk>/file/", life_views.serial_life_file, name="serial-life-file"),
    path("serial-lists/<int:pk>/", views.serial_list_detail, name="serial-list-detail"),
    path(
        "serial-lists/<int:pk>/progress/",
        views.serial_list_progress,
        name="serial-list-progress",
    ),
    path(
        "serial-lists/<int:pk>/anomalies.csv",
        views.serial_list_anomalies_csv,
        name="serial-list-anomalies-csv",
    ),
    path("numbering-rules/", views.numbering_rules, name="numbering-rules"),
    path("orders/<int:pk>/allocations/", views.order_allocate, name="order-allocate"),
    path(
        "orders/<int:pk>/allocated-codes/",
        views.order_allocated_codes,
        name="order-allocated-codes",
    ),
]
