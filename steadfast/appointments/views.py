"""Appointment book screens: day view, booking, the appointment page, arrivals and my list."""

import uuid
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from steadfast.accounts.access import can, requires
from steadfast.appointments import printing, queries, services
from steadfast.appointments.cells import day_rows
from steadfast.appointments.forms import (
    ArrivalsFilterForm,
    BookForm,
    CancelForm,
    DayFilterForm,
    RescheduleForm,
    StatusForm,
)
from steadfast.appointments.models import AppointmentStatus, SlotStatus, booking_key
from steadfast.appointments.slot_types import slot_type_warning
from steadfast.audit.record_access import break_glass_first, open_patient_record, record_search
from steadfast.audit.services import record
from steadfast.errors import DomainError, NotPermitted
from steadfast.jinja import uk_date, uk_time
from steadfast.navigation import day_from, safe_next
from steadfast.patients.queries import listings, patient_for_practice, search_patients


def _day_url(when) -> str:
    """The day view for the London date of `when` (a date or an aware datetime)."""
    day = timezone.localtime(when).date() if hasattr(when, "tzinfo") else when
    return f"{reverse('appointments:day')}?date={day.isoformat()}"


def _appointment_or_404(request, appointment_id):
    try:
        return queries.appointment_for_practice(request.user.practice, appointment_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


def _slot_or_404(request, slot_id):
    try:
        return queries.slot_for_practice(request.user.practice_id, slot_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


@requires("view_appointment_book")
def day(request):
    """The day's book; with `?patient=` (someone who may book), each free slot books that
    patient in place."""
    day = day_from(request)
    booking_for = _chosen_patient(request) if can(request.user, "book_appointments") else None
    if booking_for and (
        elsewhere := open_patient_record(request, booking_for, "view_patient_for_booking")
    ):
        return elsewhere
    working = queries.clinicians_working(request.user.practice, day)
    filters = DayFilterForm(request.GET, working)
    book = queries.day_book(request.user.practice, day, **filters.chosen(), clinicians=working)
    record("view_appointment_book", user=request.user, detail=day.isoformat(), read_only=True)
    return render(
        request,
        "appointments/day.jinja",
        {
            "page_title": f"Appointment book, {uk_date(day)}",
            "nav_current": "book",
            "book": book,
            "rows": day_rows(book),
            "booking_for": booking_for,
            "filters": filters,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
        },
    )


def _chosen_patient(request):
    try:
        return patient_for_practice(request.user.practice_id, uuid.UUID(request.GET["patient"]))
    except (KeyError, ValueError, ObjectDoesNotExist):
        return None


def _booked_message(patient, slot) -> str:
    return (
        f"Booked {patient.listing_name} with {slot.clinician.display_name} "
        f"at {uk_time(slot.start)} on {uk_date(slot.start)}."
    )


def _chosen_from(request, form):
    try:
        return patient_for_practice(request.user.practice_id, form.cleaned_data["patient"])
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


def _book_from_form(request, slot, form) -> tuple:
    """(patient, appointment, "") once booked, or (patient, None, why not)."""
    patient = _chosen_from(request, form)
    return (patient, *_book_patient(request, slot, patient, form))


def _book_patient(request, slot, patient, form) -> tuple:
    """(appointment, "") once booked, or (None, why not)."""
    key = form.cleaned_data["idempotency_key"]
    key = booking_key(key) if key else None
    try:
        booked = services.book_appointment(
            slot.pk,
            patient,
            request.user,
            reason=form.cleaned_data["reason"],
            idempotency_key=key,
            slot_as_read=slot,
        )
        return booked, ""
    except NotPermitted:
        raise
    except DomainError as exc:
        return None, str(exc)


def _slot_and_chosen(request, slot_id, form) -> tuple:
    """(slot, patient) for a booking in place, read together, the slot as its cell shows it;
    404 if either is not the practice's. The patient is None when the form is invalid."""
    if not form.is_valid():
        try:
            return queries.book_cell(request.user.practice_id, slot_id), None
        except ObjectDoesNotExist as exc:
            raise Http404 from exc
    slot, patient = queries.slot_and_patient(
        request.user.practice_id, slot_id, form.cleaned_data["patient"], cell=True
    )
    if slot is None or patient is None:
        raise Http404
    return slot, patient


def _book_in_place(request, slot_id, form):
    """A Book button of the day view (htmx): the answer is the slot's cell as it now is, and
    out of band either the booking confirmed or why not, with the nearest free slots."""
    type_warning = ""
    slot, patient = _slot_and_chosen(request, slot_id, form)
    if patient is None:
        refused = " ".join(e for errors in form.errors.values() for e in errors)
        booked = None
    elif (type_warning := slot_type_warning(slot)) and not form.cleaned_data["type_confirmed"]:
        booked, refused = None, ""
    else:
        booked, refused = _book_patient(request, slot, patient, form)
        if booked:
            slot.status, slot.appointment = SlotStatus.BOOKED, booked
        elif slot.status == SlotStatus.FREE:  # read free, yet not booked: read it as it now is
            slot = queries.book_cell(request.user.practice_id, slot.pk)
    asking = bool(type_warning and not booked and not refused)
    return render(
        request,
        "appointments/_book_cell.jinja",
        {
            "slot": slot,
            "now": timezone.now(),
            "booking_for": None if booked else patient,
            "booked": booked,
            "booked_message": _booked_message(patient, slot) if booked else "",
            "refused": refused,
            "type_warning": type_warning if asking else "",
            "nearest": (
                queries.nearest_free_slots(slot) if patient and not booked and not asking else []
            ),
        },
    )


@requires("book_appointments")
def book(request, slot_id):
    """The booking page; a POST from a Book button of the day view (htmx) is answered in
    place."""
    if request.method == "POST" and request.headers.get("HX-Request"):
        return _book_in_place(request, slot_id, BookForm(request.POST))
    slot = _slot_or_404(request, slot_id)
    if request.method == "POST":
        form = BookForm(request.POST)
        if form.is_valid():
            patient, booked, refused = _book_from_form(request, slot, form)
            if booked:
                messages.success(request, _booked_message(patient, slot))
            else:
                messages.error(request, refused)
            return redirect(_day_url(slot.start))
    else:
        form = BookForm()
    chosen = _chosen_patient(request)
    if chosen and (elsewhere := open_patient_record(request, chosen, "view_patient_for_booking")):
        return elsewhere
    query = request.GET.get("q", "")
    results = []
    if query and not chosen:
        results = listings(search_patients(request.user.practice, query))
        record_search(request.user, "search_patients_for_booking", [p.id for p in results])
    context = {
        "page_title": "Book an appointment",
        "nav_current": "book",
        "slot": slot,
        "form": form,
        "query": query,
        "results": results,
        "chosen": chosen,
        "type_warning": slot_type_warning(slot),
    }
    if request.headers.get("HX-Request") and not chosen:
        return render(request, "appointments/_patient_results.jinja", context)
    return render(request, "appointments/book.jinja", context)


@requires("view_appointment_book")
def appointment(request, appointment_id):
    appt = _appointment_or_404(request, appointment_id)
    if elsewhere := open_patient_record(request, appt.patient, "view_appointment"):
        return elsewhere
    return _appointment_page(request, appt, StatusForm())


def _appointment_page(request, appt, status_form, status=200):
    """The appointment, its actions, and the form for a change entered afterwards from paper
    (offering only the changes its status allows)."""
    transitions = services.TRANSITIONS[appt.status]
    status_form.fields["to_status"].choices = [
        (value, label) for value, label in AppointmentStatus.choices if value in transitions
    ]
    status_form.fields["to_status"].label = "What happened"
    return render(
        request,
        "appointments/appointment.jinja",
        {
            "page_title": "Appointment",
            "nav_current": "book",
            "appointment": appt,
            "cancel_form": CancelForm(),
            "transitions": transitions,
            "form": status_form if status_form.is_bound else None,
            "status_form": status_form,
        },
        status=status,
    )


@requires("book_appointments")
def cancel(request, appointment_id):
    appt = _appointment_or_404(request, appointment_id)
    if elsewhere := open_patient_record(request, appt.patient, "view_appointment_to_cancel"):
        return elsewhere
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_appointment(
                appt, form.cleaned_data["cancelled_by"], form.cleaned_data["reason"], request.user
            )
        except NotPermitted:
            raise
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("appointments:detail", appointment_id=appt.pk)
        messages.success(
            request,
            f"Cancelled. The {uk_time(appt.slot.start)} slot with "
            f"{appt.slot.clinician.display_name} is free again.",
        )
        return redirect(_day_url(appt.slot.start))
    return render(
        request,
        "appointments/cancel.jinja",
        {"page_title": "Cancel appointment", "appointment": appt, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@requires("book_appointments")
def reschedule(request, appointment_id):
    appt = _appointment_or_404(request, appointment_id)
    if elsewhere := open_patient_record(request, appt.patient, "view_appointment_to_move"):
        return elsewhere
    form = RescheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.reschedule_appointment(appt, form.cleaned_data["slot"], request.user)
        except NotPermitted:
            raise
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            new = queries.appointment_for_practice(request.user.practice, moved.pk)
            messages.success(
                request,
                f"Moved to {uk_time(new.slot.start)} on {uk_date(new.slot.start)} "
                f"with {new.slot.clinician.display_name}.",
            )
            return redirect("appointments:detail", appointment_id=appt.pk)
    first_day = day_from(request)
    same_clinician = request.GET.get("clinician") == "same"
    slots = queries.free_slots(
        request.user.practice,
        first_day,
        days=7,
        clinician=appt.slot.clinician if same_clinician else None,
    )
    return render(
        request,
        "appointments/reschedule.jinja",
        {
            "page_title": "Move appointment",
            "appointment": appt,
            "form": form,
            "slots": slots,
            "first_day": first_day,
            "same_clinician": same_clinician,
            "next_week": first_day + timedelta(days=7),
        },
    )


@require_POST
@requires("manage_arrivals")
def change_status(request, appointment_id):
    appt = _appointment_or_404(request, appointment_id)
    back = safe_next(request, reverse("appointments:detail", args=[appt.pk]))
    if elsewhere := break_glass_first(request, appt.patient, "open_appointment_status", back):
        return elsewhere
    form = StatusForm(request.POST)
    from_paper = bool(request.POST.get("from_paper"))
    if from_paper and form.is_valid() and form.cleaned_data["occurred_at"] is None:
        form.add_error("happened_on", "Enter the date it happened")
    if form.is_valid():
        try:
            appt = services.change_status(
                appt,
                form.cleaned_data["to_status"],
                request.user,
                occurred_at=form.cleaned_data["occurred_at"],
            )
        except NotPermitted:
            raise
        except DomainError as exc:
            if from_paper:  # shown at the form, with what was typed
                form.add_error("happened_on", str(exc))
                return _appointment_page(request, appt, form, status=400)
            messages.error(request, str(exc))
    elif from_paper:
        return _appointment_page(request, appt, form, status=400)
    else:
        messages.error(request, "Choose what happened to the appointment.")
    if request.headers.get("HX-Request") and request.POST.get("row"):
        appt = queries.appointment_for_practice(request.user.practice, appt.pk)
        return render(
            request,
            "appointments/_list_row.jinja",
            {
                "a": appt,
                "transitions": services.TRANSITIONS[appt.status],
                "row": request.POST["row"],
            },
        )
    return redirect(back)


@requires("manage_arrivals")
def arrivals(request):
    day = day_from(request)
    record("view_arrivals", user=request.user, detail=day.isoformat(), read_only=True)
    filters = ArrivalsFilterForm(
        request.GET, queries.clinicians_working(request.user.practice, day)
    )
    return render(
        request,
        "appointments/list.jinja",
        {
            "page_title": f"Arrivals, {uk_date(day)}",
            "heading": "Arrivals",
            "nav_current": "arrivals",
            "row": "arrivals",
            "day": day,
            "filters": filters,
            "appointments": queries.arrivals(
                request.user.practice, day, **filters.chosen(), listed=True
            ),
            "transitions": services.TRANSITIONS,
        },
    )


@requires("view_own_list")
def my_list(request):
    day = day_from(request)
    record("view_own_list", user=request.user, detail=day.isoformat(), read_only=True)
    return render(
        request,
        "appointments/list.jinja",
        {
            "page_title": f"My list, {uk_date(day)}",
            "heading": "My list",
            "nav_current": "my_list",
            "row": "my_list",
            "day": day,
            "appointments": queries.clinician_list(request.user, day),
            "transitions": services.TRANSITIONS,
        },
    )


def _pdf(request, name: str, pdf: bytes, day) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}-{day.isoformat()}.pdf"'
    return response


@requires("view_appointment_book")
def day_pdf(request):
    """The day's book to print: a page per clinician (or the one chosen), A4."""
    day = day_from(request)
    clinician = DayFilterForm(request.GET, queries.clinicians_working(request.user.practice, day))
    lists = queries.printed_lists(request.user.practice, day, clinician.chosen()["clinician_id"])
    record("print_appointment_book", user=request.user, detail=day.isoformat(), read_only=True)
    pdf = printing.lists_pdf(
        title=f"Appointment book, {uk_date(day)}",
        day=day,
        practice=request.user.practice,
        lists=lists,
    )
    return _pdf(request, "appointment-book", pdf, day)


@requires("manage_arrivals")
def arrivals_pdf(request):
    day = day_from(request)
    record("print_arrivals", user=request.user, detail=day.isoformat(), read_only=True)
    pdf = printing.lists_pdf(
        title=f"Arrivals, {uk_date(day)}",
        day=day,
        practice=request.user.practice,
        arrivals=queries.arrivals(request.user.practice, day, everyone=True),
    )
    return _pdf(request, "arrivals", pdf, day)


@requires("view_own_list")
def my_list_pdf(request):
    day = day_from(request)
    record("print_own_list", user=request.user, detail=day.isoformat(), read_only=True)
    lists = queries.printed_lists(request.user.practice, day, request.user.pk)
    pdf = printing.lists_pdf(
        title=f"{request.user.display_name}, {uk_date(day)}",
        day=day,
        practice=request.user.practice,
        lists=lists,
    )
    return _pdf(request, "my-list", pdf, day)
