from django.urls import path

from steadfast.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("no-access/", views.no_access, name="no_access"),
]
