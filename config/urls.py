from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),  # login, logout, oidc/authenticate, oidc/callback
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("governance.urls")),
    path("", include("evaluation.urls")),
    path("", include("gaps.urls")),
    path("", include("ingestion.urls")),
    path("", include("chatbot.urls")),
]
