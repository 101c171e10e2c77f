from django.urls import path

from steadfast.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("no-access/", views.no_access, name="no_access"),
    path("two-factor/", views.second_factor, name="second_factor"),
    path("two-factor/set-up/", views.set_up_second_factor, name="set_up_second_factor"),
    path("me/", views.me, name="me"),
    path("roles/", views.roles, name="roles"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/", views.staff_member, name="staff_member"),
    path("me/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
]
