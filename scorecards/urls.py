from django.urls import path

from scorecards import views

urlpatterns = [
    path("scorecards/", views.scorecard_list, name="scorecard-list"),
    path("scorecards/<int:pk>/", views.scorecard_detail, name="scorecard-detail"),
    path(
        "scorecards/<int:pk>/<slug:measure>/",
        views.scorecard_records,
        name="scorecard-records",
    ),
]
