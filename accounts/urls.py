from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout, name="logout"),
    path("oidc/authenticate/", views.SsoStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", views.SsoCallbackView.as_view(), name="oidc_authentication_callback"),
]
