from django.urls import path

from orders.api import views

urlpatterns = [
    path("orders/", views.OrderList.as_view(), name="api-order-list"),
    path("orders/<int:pk>/", views.OrderDetail.as_view(), name="api-order-detail"),
    path("orders/<int:pk>/batches/", views.OrderBatchList.as_view(), name="api-order-batches"),
    path("batches/<int:pk>/", views.BatchDetail.as_view(), name="api-batch-detail"),
]
