"""Signing in and out."""

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render

from steadfast.accounts.access import can


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.jinja"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def home(request):
    """Send each person to where their working day starts."""
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if can(user, "view_own_list"):
        return redirect("appointments:my_list")
    if can(user, "view_appointment_book"):
        return redirect("appointments:day")
    return redirect("accounts:no_access")


def no_access(request):
    return render(request, "errors/403.jinja", {"page_title": "No access"}, status=403)
