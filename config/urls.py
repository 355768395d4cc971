from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts import views as account_views
from accounts.permissions import IsStaffRole
from config.favicon import favicon
from config.health import healthz

api_patterns = [
    path("catalogue/", include("catalogue.api_urls")),
    path("pricing/", include("pricing.api_urls")),
    path("appeals/", include("appeals.api_urls")),
]

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.logout_view, name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("catalogue/", include("catalogue.urls")),
    path("pricing/", include("pricing.urls")),
    path("appeals/", include("appeals.urls")),
    path("compliance/", include("compliance.urls")),
    path("api/", include(api_patterns)),
    # issue 11: the schema is for logged-in staff only; the Swagger UI (which loaded from a CDN the CSP
    # blocks) is removed — the schema opens in any OpenAPI viewer
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[IsStaffRole]), name="api-schema"),
]
