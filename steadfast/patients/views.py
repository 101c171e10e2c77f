"""Patient search, registration and the patient page."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from steadfast.accounts.access import can, requires
from steadfast.appointments.queries import patient_appointments
from steadfast.audit.queries import record_access_log
from steadfast.audit.record_access import open_patient_record, record_search
from steadfast.audit.services import record
from steadfast.errors import DomainError, DuplicateNHSNumber, PossibleDuplicatePatient
from steadfast.fhir.http import fhir_response
from steadfast.fhir.resources.record import patient_bundle
from steadfast.navigation import found
from steadfast.patients import queries, services
from steadfast.patients.forms import (
    DetailsForm,
    EndRegistrationForm,
    RegistrationForm,
    search_text,
)
from steadfast.practices.queries import practice_gps


@requires("view_demographics")
def search(request):
    query, query_error = search_text(request.GET.get("q", ""))
    results = queries.listings(queries.search_patients(request.user.practice, query))
    if query:
        record_search(request.user, "search_patients", [p.id for p in results])
    context = {
        "page_title": "Find a patient",
        "nav_current": "patients",
        "query": query,
        "query_error": query_error,
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
            "details_history": queries.details_history(patient),
            "access_log": (
                record_access_log(patient) if can(request.user, "view_record_audit") else None
            ),
        },
    )


@requires("register_patients")
def edit_details(request, patient_id):
    """Correct a patient's details; each change is kept (shown on the patient page)."""
    patient = found(queries.patient_for_practice, request.user.practice, patient_id)
    if elsewhere := open_patient_record(request, patient, "open_patient_details"):
        return elsewhere
    initial = {name: getattr(patient, name) for name in services.EDITABLE_DETAILS}
    initial["usual_gp"] = str(patient.usual_gp_id or "")
    form = DetailsForm(
        request.POST or None, gps=practice_gps(request.user.practice), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        change = services.update_patient_details(patient, form.patient_details(), request.user)
        messages.success(request, "Details changed." if change else "Nothing was changed.")
        return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "patients/edit.jinja",
        {
            "page_title": f"Change details – {patient.listing_name}",
            "nav_current": "patients",
            "patient": patient,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@requires("register_patients")
def end_registration(request, patient_id):
    """Record a deduction or a death: the future appointments it cancels are listed first,
    and again once done."""
    patient = found(queries.patient_for_practice, request.user.practice, patient_id)
    if elsewhere := open_patient_record(request, patient, "open_patient_details"):
        return elsewhere
    form = EndRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["what"] == "died":
                ended = services.record_death(patient, request.user, died_on=d["on"])
            else:
                ended = services.record_deduction(
                    patient, request.user, on=d["on"], reason=d["reason"]
                )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return render(
                request,
                "patients/registration_ended.jinja",
                {
                    "page_title": f"Registration ended – {patient.listing_name}",
                    "nav_current": "patients",
                    "patient": patient,
                    "cancelled": ended.cancelled,
                },
            )
    upcoming, _ = patient_appointments(patient)
    return render(
        request,
        "patients/end_registration.jinja",
        {
            "page_title": f"Deduction or death – {patient.listing_name}",
            "nav_current": "patients",
            "patient": patient,
            "form": form,
            "upcoming": [a for a in upcoming if a.status == "booked"],
        },
        status=400 if request.method == "POST" else 200,
    )


@requires("export")
def export(request, patient_id):
    """One patient's whole record as a FHIR Bundle (the API's Patient $everything), downloaded;
    the page first, the file on a POST. Audited."""
    patient = found(queries.patient_for_practice, request.user.practice, patient_id)
    if elsewhere := open_patient_record(request, patient, "open_patient_export"):
        return elsewhere
    if request.method != "POST":
        return render(
            request,
            "patients/export.jinja",
            {
                "page_title": f"Export – {patient.listing_name}",
                "nav_current": "patients",
                "patient": patient,
            },
        )
    bundle = patient_bundle(request, patient)
    record(
        "export_record",
        user=request.user,
        patient_id=patient.pk,
        detail=f"FHIR Bundle of {len(bundle['entry'])} resources",
    )
    response = fhir_response(bundle)
    name = f"patient-{patient.nhs_number or patient.pk}-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
