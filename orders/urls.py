from django.urls import path

from orders import sample_views, views

urlpatterns = [
    path("orders/", views.order_list, name="order-list"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order-edit"),
    path("orders/<int:pk>/timeline/", views.order_timeline, name="order-timeline"),
    path("orders/<int:pk>/batches/new/", views.batch_create, name="batch-create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/edit/", views.batch_edit, name="batch-edit"),
    path("samples/", sample_views.sample_list, name="sample-list"),
    path("samples/new/", sample_views.sample_create, name="sample-create"),
    path("samples/<int:pk>/", sample_views.sample_detail, name="sample-detail"),
    path(
        "samples/<int:pk>/new-version/",
        sample_views.sample_new_version,
        name="sample-new-version",
    ),
    path(
        "samples/<int:pk>/photo/sample/",
        sample_views.sample_photo,
        {"which": "sample"},
        name="sample-photo",
    ),
    path(
        "samples/<int:pk>/photo/label/",
        sample_views.sample_photo,
        {"which": "label"},
        name="sample-label-photo",
    ),
]
