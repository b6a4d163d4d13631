from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import integrity_views, views

handler404 = "portal.views.not_found"

admin.site.site_header = "Serial Evidence Portal administration"
admin.site.site_title = "Serial Evidence Portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="notification-open"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("integrity/", integrity_views.integrity_page, name="integrity"),
    path("integrity/progress/", integrity_views.integrity_progress, name="integrity-progress"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("portal.api")),
    path("", include("accounts.urls")),
    path("", include("orders.urls")),
    path("", include("approvals.urls")),
    path("", include("serials.urls")),
    path("", include("evidence.urls")),
    path("", include("inspection.urls")),
    path("", include("lookup.urls")),
    path("", include("dossier.urls")),
    path("", include("scorecards.urls")),
]
