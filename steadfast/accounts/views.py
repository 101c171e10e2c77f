"""Signing in and out, the second factor, and the signed-in person's own account page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from steadfast.accounts import queries, services
from steadfast.accounts.access import can, requires
from steadfast.accounts.forms import NewStaffForm, RoleForm, SecurityCodeForm
from steadfast.errors import DomainError
from steadfast.navigation import found, safe_next


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.jinja"
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        return safe_next(self.request, "")


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


def _next_url(request) -> str:
    return safe_next(request, resolve_url(settings.LOGIN_REDIRECT_URL))


def _code_form(request, **kwargs) -> SecurityCodeForm:
    data = request.POST if request.method == "POST" else None
    return SecurityCodeForm(data, user=request.user, **kwargs)


def _verified(request, device) -> None:
    """The second factor is in: mark the session verified under a new session key, as Django
    does at the password step, so a key seen before the code (a fixed or leaked cookie) is
    worth nothing after it."""
    otp_login(request, device)
    request.session.cycle_key()


@login_required
def second_factor(request):
    """Ask for the code from the user's authenticator app, or send them to set one up."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    devices = queries.confirmed_authenticators(request.user)
    if not devices:
        set_up = reverse("accounts:set_up_second_factor")
        return redirect(f"{set_up}?{urlencode({'next': next_url})}")
    form = _code_form(request, devices=devices)
    if form.is_valid():
        _verified(request, form.device)
        return redirect(next_url)
    return render(request, "accounts/second_factor.jinja", {"form": form, "next": next_url})


@login_required
def set_up_second_factor(request):
    """Add an authenticator app: scan the QR code (or type the secret), then enter a code."""
    next_url = _next_url(request)
    if queries.confirmed_authenticators(request.user):
        return redirect("accounts:me" if request.user.is_verified() else "accounts:second_factor")
    device = services.authenticator_to_set_up(request.user)
    form = _code_form(request, devices=[device], confirm=True)
    if form.is_valid():
        _verified(request, form.device)
        messages.success(
            request, "Your authenticator app is set up. You will need a code from it to log in."
        )
        return redirect(next_url)
    context = {
        "form": form,
        "next": next_url,
        "qr_code": queries.qr_code_data_uri(device),
        "secret": queries.readable_secret(device),
    }
    return render(request, "accounts/set_up_second_factor.jinja", context)


@login_required
def me(request):
    authenticators = queries.confirmed_authenticators(request.user)
    return render(request, "accounts/me.jinja", {"authenticators": authenticators})


@require_POST
@login_required
def sign_out_everywhere(request):
    services.sign_out_everywhere(request.user)
    update_session_auth_hash(request, request.user)  # keep this browser signed in
    messages.success(request, "You have been signed out of Steadfast on every other device.")
    return redirect("accounts:me")


@requires("manage_staff")
def roles(request):
    """The activity table as it stands: what each role may do (read from the code, not a copy)."""
    return render(request, "accounts/roles.jinja", {"table": queries.role_table()})


@requires("manage_staff")
def staff(request):
    """The practice's staff, and adding someone."""
    form = NewStaffForm(request.POST or None, roles=services.ROLES_A_MANAGER_GIVES)
    if request.method == "POST" and form.is_valid():
        try:
            member, password = services.add_staff(
                request.user, request.user.practice, **form.cleaned_data
            )
        except DomainError as exc:
            form.add_error("username", str(exc))
        else:
            return render(
                request,
                "accounts/staff_added.jinja",
                {
                    "page_title": "Staff added",
                    "nav_current": "staff",
                    "member": member,
                    "password": password,
                },
            )
    return render(
        request,
        "accounts/staff.jinja",
        {
            "page_title": "Staff",
            "nav_current": "staff",
            "staff": queries.practice_staff(request.user.practice),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@requires("manage_staff")
def staff_member(request, user_id):
    """One member of staff: change their role, disable or enable them, reset a lost second
    factor."""
    member = found(queries.practice_staff_member, request.user.practice, user_id)
    role_form = RoleForm(
        request.POST if request.POST.get("action") == "role" else None,
        roles=services.ROLES_A_MANAGER_GIVES,
        initial={"role": member.role},
    )
    if request.method == "POST":
        try:
            messages.success(request, _change_staff(request, member, role_form))
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("accounts:staff_member", user_id=member.pk)
    return render(
        request,
        "accounts/staff_member.jinja",
        {
            "page_title": member.display_name,
            "nav_current": "staff",
            "member": member,
            "has_authenticator": bool(queries.confirmed_authenticators(member)),
            "role_form": role_form,
        },
    )


def _change_staff(request, member, role_form) -> str:
    """Do what the staff page's button asked; what to tell the manager."""
    action, actor, name = request.POST.get("action"), request.user, member.display_name
    if action == "role":
        if not role_form.is_valid():
            raise DomainError("Choose a role.")
        services.change_role(actor, member, role_form.cleaned_data["role"])
        return f"{name} is now: {member.get_role_display()}."
    if action in ("disable", "enable"):
        services.set_staff_active(actor, member, action == "enable")
        return f"{name} can no longer sign in." if action == "disable" else f"{name} can sign in."
    if action == "reset_second_factor":
        services.reset_second_factor(actor, member)
        return f"{name}'s authenticator app is removed: they set up a new one at next sign-in."
    raise DomainError("Choose what to change.")
