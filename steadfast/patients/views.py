"""Patient search, registration and the patient page."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from steadfast.accounts.access import can, requires
from steadfast.appointments.queries import patient_appointments
from steadfast.audit.queries import record_access_log
from steadfast.audit.record_access import open_patient_record, record_search
from steadfast.errors import DuplicateNHSNumber, PossibleDuplicatePatient
from steadfast.patients import queries, services
from steadfast.patients.forms import RegistrationForm
from steadfast.practices.queries import practice_gps


@requires("view_demographics")
def search(request):
    query = request.GET.get("q", "")
    results = queries.listings(queries.search_patients(request.user.practice, query))
    if query:
        record_search(request.user, "search_patients", [p.id for p in results])
    context = {
        "page_title": "Find a patient",
        "nav_current": "patients",
        "query": query,
        "results": results,
    }
    if request.headers.get("HX-Request"):
        return render(request, "patients/_results.jinja", context)
    return render(request, "patients/search.jinja", context)


@requires("register_patients")
def register(request):
    practice = request.user.practice
    form = RegistrationForm(request.POST or None, gps=practice_gps(practice))
    duplicates = []
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient(
                practice,
                form.patient_details(),
                request.user,
                confirmed_not_duplicate=form.cleaned_data["confirm_not_duplicate"],
            )
        except DuplicateNHSNumber as exc:
            form.add_error("nhs_number", str(exc))
        except PossibleDuplicatePatient as exc:
            duplicates = queries.listings(exc.matches)
        else:
            messages.success(request, f"Registered {patient.listing_name}.")
            return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/register.jinja",
        {
            "page_title": "Register a patient",
            "nav_current": "patients",
            "form": form,
            "duplicates": duplicates,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@requires("restrict_records")
def restrict(request, patient_id):
    try:
        patient = queries.patient_for_practice(request.user.practice, patient_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    sensitive = request.POST.get("sensitive") == "on"
    services.mark_sensitive(patient, sensitive, request.user)
    messages.success(request, "Record restricted." if sensitive else "Restriction removed.")
    return redirect("patients:detail", patient_id=patient.pk)


@requires("view_demographics")
def detail(request, patient_id):
    try:
        patient = queries.patient_for_practice(request.user.practice, patient_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    if elsewhere := open_patient_record(request, patient, "view_patient"):
        return elsewhere
    upcoming, past = patient_appointments(patient)
    return render(
        request,
        "patients/detail.jinja",
        {
            "page_title": patient.listing_name,
            "nav_current": "patients",
            "patient": patient,
            "upcoming": upcoming,
            "past": past[:50],
            "past_total": len(past),
            "access_log": (
                record_access_log(patient) if can(request.user, "view_record_audit") else None
            ),
        },
    )
