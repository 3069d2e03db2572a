from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from governance.api.docs import api_docs
from governance.web.health import healthz, healthz_detail

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/detail", healthz_detail, name="healthz_detail"),
    path("login/", auth_views.LoginView.as_view(template_name="auth/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("governance.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api_docs"),
    path("account/notifications/", include("governance.notifications.urls")),
    path("", include("governance.web.urls")),
]

handler404 = "governance.web.views.not_found"
handler500 = "governance.web.views.server_error"
