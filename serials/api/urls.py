from django.urls import path

from serials.api import views

urlpatterns = [
    path(
        "batches/<int:pk>/serial-lists/",
        views.BatchSerialLists.as_view(),
        name="api-batch-serial-lists",
    ),
    path(
        "batches/<int:pk>/serial-lists/check/",
        views.BatchSerialListCheck.as_view(),
        name="api-batch-serial-list-check",
    ),
    path("serial-lists/<int:pk>/", views.SerialListDetail.as_view(), name="api-serial-list-detail"),
    path(
        "batches/<int:pk>/exceptions/", views.BatchExceptions.as_view(), name="api-batch-exceptions"
    ),
    path("exceptions/answers/", views.ExceptionAnswers.as_view(), name="api-exception-answers"),
    path(
        "exceptions/decisions/", views.ExceptionDecisions.as_view(), name="api-exception-decisions"
    ),
    path("numbering-rules/", views.NumberingRules.as_view(), name="api-numbering-rules"),
    path(
        "orders/<int:pk>/allocated-codes/",
        views.OrderAllocatedCodes.as_view(),
        name="api-order-allocated-codes",
    ),
]
