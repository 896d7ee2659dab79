from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sewerline.apps.core import views as core_views

urlpatterns = [
    path("", core_views.HomeView.as_view(), name="dashboard"),
    path("health", core_views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("sewerline.apps.api.urls")),
    path("audits/", include("sewerline.apps.audits.urls")),
    path("discrepancies/", include("sewerline.apps.discrepancies.urls")),
    path("profiles/", include("sewerline.apps.profiles.urls")),
    path("rates/", include("sewerline.apps.rates.urls")),
    path("entities/", include("sewerline.apps.entities.urls")),
    path("imports/", include("sewerline.apps.imports.urls")),
]
