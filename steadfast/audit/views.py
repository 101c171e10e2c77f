"""Break-glass, the practice manager's alerts and the audit search."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from steadfast.accounts.access import requires
from steadfast.accounts.queries import staff_member
from steadfast.audit import queries, services
from steadfast.audit.forms import AuditSearchForm, BreakGlassForm
from steadfast.audit.models import Outcome
from steadfast.navigation import found, safe_next
from steadfast.patients.nhs_numbers import normalise_nhs_number
from steadfast.patients.queries import patient_for_practice, patient_with_nhs_number


@requires("break_glass")
def break_glass(request, patient_id):
    try:
        patient = patient_for_practice(request.user.practice, patient_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    back_to = safe_next(request, reverse("patients:detail", args=[patient.pk]))
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            services.break_glass(request.user, patient, form.cleaned_data["reason"])
            return redirect(back_to)
        services.record(
            "break_glass",
            user=request.user,
            patient_id=patient.pk,
            outcome=Outcome.DENIED,
            detail="refused: reason missing or too short",
        )
    return render(
        request,
        "audit/break_glass.jinja",
        {"page_title": "Restricted record", "patient": patient, "form": form, "next": back_to},
        status=400 if request.method == "POST" else 200,
    )


@requires("view_audit")
def alerts(request):
    return render(
        request,
        "audit/alerts.jinja",
        {
            "page_title": "Alerts",
            "nav_current": "audit",
            "alerts": queries.open_alerts(request.user.practice),
        },
    )


@require_POST
@requires("view_audit")
def acknowledge(request, alert_id):
    alert = found(queries.alert_for_practice, request.user.practice, alert_id)
    services.acknowledge_alert(alert, request.user)
    messages.success(request, "Alert acknowledged.")
    return redirect("audit:alerts")


@requires("view_audit")
def search(request):
    form = AuditSearchForm(request.GET or None)
    events, searched = [], False
    if form.is_bound and form.is_valid():
        searched = True
        data = form.cleaned_data
        patient_id = user_id = None
        if data["nhs_number"]:
            number = normalise_nhs_number(data["nhs_number"])
            patient = patient_with_nhs_number(request.user.practice, number) if number else None
            if patient is None:
                form.add_error("nhs_number", "No patient at this practice has that NHS number")
            else:
                patient_id = patient.pk
        if data["username"]:
            user = staff_member(request.user.practice, data["username"])
            if user is None:
                form.add_error("username", "No member of staff here has that username")
            else:
                user_id = user.pk
        if not form.errors:
            events = queries.search_audit(
                request.user.practice,
                patient_id=patient_id,
                user_id=user_id,
                first_day=data["first_day"],
                last_day=data["last_day"],
            )
    return render(
        request,
        "audit/search.jinja",
        {
            "page_title": "Audit trail",
            "nav_current": "audit",
            "form": form,
            "events": events,
            "searched": searched,
        },
    )
