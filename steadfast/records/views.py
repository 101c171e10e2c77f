"""The record screens: HTTP only. Each patient page opens the record through the audit gate."""

import re

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from steadfast.accounts.access import requires
from steadfast.appointments.queries import appointment_for_practice
from steadfast.audit.record_access import open_patient_record
from steadfast.errors import DomainError, NotPermitted
from steadfast.navigation import found
from steadfast.patients.queries import patient_for_practice
from steadfast.records import charts, queries, services
from steadfast.records.errors import AllergyWarning
from steadfast.records.forms import (
    AllergyForm,
    ConsultationForm,
    DocumentForm,
    EditConsultationForm,
    FlagForm,
    PrescribeForm,
    StopForm,
    medicine_field_name,
)
from steadfast.records.observations import TYPES

PICKER_USES = {
    "problem": ["problem", "finding"],
    "medicine": ["medicine"],
    "substance": ["allergen"],
    "reaction": ["reaction"],
    "flag": ["flag"],
}


PICKER_NAME = re.compile(rf"^({'|'.join(PICKER_USES)})([2-9]|10)?$")


def _open(request, patient_id, action):
    """(patient, None) when the page may show, else (None, the response to send instead)."""
    try:
        patient = patient_for_practice(request.user.practice, patient_id)
    except (ObjectDoesNotExist, ValueError) as exc:
        raise Http404 from exc
    return patient, open_patient_record(request, patient, action)


def _page(request, template, patient, title, context, status=200):
    return render(
        request,
        template,
        {
            "page_title": f"{title} – {patient.listing_name}",
            "nav_current": "patients",
            "patient": patient,
            "section": title,
            **context,
        },
        status=status,
    )


@requires("view_clinical_record")
def summary(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "view_record_summary")
    if elsewhere:
        return elsewhere
    return _page(
        request, "records/summary.jinja", patient, "Summary", queries.patient_summary(patient)
    )


@requires("view_clinical_record")
def journal(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "view_record_journal")
    if elsewhere:
        return elsewhere
    types = request.GET.getlist("type")
    before = queries.parse_cursor(request.GET.get("before", ""))
    page = queries.journal(patient, types=types, before=before)
    return _page(
        request,
        "records/journal.jinja",
        patient,
        "Journal",
        {
            **page,
            "labels": queries.JOURNAL_LABELS,
            "singular": queries.JOURNAL_SINGULAR,
            "chosen": types,
        },
    )


def _saving(request) -> bool:
    """A POST to save; a POST with `find` only refreshes a code picker, and one with `add` adds
    another problem or medicine, without JavaScript. (A saving POST that reaches the page again
    has failed: it answers 400.)"""
    return request.method == "POST" and "find" not in request.POST and "add" not in request.POST


def _picker_kind(name: str) -> str:
    """`problem2` is a problem picker: the uses it offers are a problem's."""
    return name.rstrip("0123456789")


def _picked(form, name, uses):
    code = (form.cleaned_data.get(f"{name}_code") or "").strip()
    if not code:
        return None
    concept = queries.concept_by_code(code, uses)
    if concept is None:
        form.add_error(f"{name}_q", "Choose a code from the list.")
    return concept


def _choices(data, name):
    """Picker options to show again after a round trip without JavaScript."""
    q = (data.get(f"{name}_q") or "").strip()
    return queries.search_concepts(q, PICKER_USES[_picker_kind(name)]) if q else []


def _block_counts(data) -> dict:
    """How many problems and medicines the consultation form shows: as many as it had, and one
    more of the kind its 'Add another' button asked for."""
    counts = {}
    for kind in ("problem", "medicine"):
        try:
            count = int(data.get(f"{kind}_count") or 1)
        except ValueError:
            count = 1
        counts[f"{kind}s"] = count + (1 if data.get("add") == kind else 0)
    return counts


def _note_from(form, problems, medicines):
    d = form.cleaned_data
    note = services.ConsultationNote(
        consultation_type=d["consultation_type"],
        history=d["history"],
        examination=d["examination"],
        plan=d["plan"],
    )
    for block, concept in problems:
        significance = d[f"{block}_significance"] or "minor"
        note.problems.append(services.NewProblem(concept, significance=significance))
    if d["bp_systolic"] is not None or d["bp_diastolic"] is not None:
        note.observations.append(services.NewObservation("bp", d["bp_systolic"], d["bp_diastolic"]))
    for kind in ("pulse", "weight", "height", "temperature"):
        if d[kind] is not None:
            note.observations.append(services.NewObservation(kind, d[kind]))
    if d["smoking"]:
        note.observations.append(services.NewObservation("smoking", smoking=d["smoking"]))
    for block, concept in medicines:
        note.medications.append(_new_medication(d, concept, block))
    return note


def _new_medication(d, medicine, block="medicine"):
    def part(name):
        return d[medicine_field_name(block, name)]

    return services.NewMedication(
        concept=medicine,
        kind=part("kind") or "acute",
        dose=part("dose") or "",
        quantity=part("quantity") or 0,
        quantity_unit=part("quantity_unit") or "tablet",
        issues_allowed=part("issues_allowed"),
        review_date=part("review_date"),
    )


def _picked_blocks(form, blocks, kind):
    """(block, concept) for each repeated entry with a code chosen."""
    chosen = [(block, _picked(form, block, PICKER_USES[kind])) for block in blocks]
    return [(block, concept) for block, concept in chosen if concept]


@requires("record_consultation")
def consult(request, patient_id):
    """The consultation screen: free text and coded entries (several problems and medicines),
    saved as a whole."""
    patient, elsewhere = _open(request, patient_id, "open_consultation")
    if elsewhere:
        return elsewhere
    data = request.POST if request.method == "POST" else request.GET
    appointment = queries.patients_appointment(patient, data.get("appointment"))
    form = ConsultationForm(request.POST or None, **_block_counts(data))
    allergy_warning = None
    if _saving(request) and form.is_valid():
        problems = _picked_blocks(form, form.problem_blocks, "problem")
        medicines = _picked_blocks(form, form.medicine_blocks, "medicine")
        if form.is_valid():
            try:
                services.save_consultation(
                    patient,
                    request.user,
                    _note_from(form, problems, medicines),
                    appointment=appointment,
                    occurred_at=form.cleaned_data["occurred_at"],
                    allergy_confirmed=form.cleaned_data["allergy_confirmed"],
                    override_reason=form.cleaned_data["allergy_reason"],
                )
            except AllergyWarning as exc:
                allergy_warning = str(exc)
            except NotPermitted:
                raise
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Consultation saved.")
                return redirect("records:summary", patient_id=patient.pk)
    return _page(
        request,
        "records/consult.jinja",
        patient,
        "Consultation",
        {
            "form": form,
            "appointment": appointment,
            "allergy_warning": allergy_warning or _allergy_warning(patient, data),
            "choices": {
                block: _choices(data, block) for block in form.problem_blocks + form.medicine_blocks
            },
        },
        status=400 if _saving(request) else 200,
    )


@requires("prescribe")
def medicine_check(request, patient_id):
    """As a medicine is picked (htmx): the allergy warning, and the confirmation it needs, in
    place before anything is saved; nothing when the patient has no matching allergy."""
    patient, elsewhere = _open(request, patient_id, "check_medicine_allergies")
    if elsewhere:
        return elsewhere
    return render(
        request,
        "records/_allergy_check.jinja",
        {
            "patient": patient,
            "form": None,
            "allergy_warning": _allergy_warning(patient, request.GET),
        },
    )


MEDICINE_CODE = re.compile(r"^medicine\d*_code$")


def _allergy_warning(patient, data) -> str:
    """The warnings for the medicines picked in `data`, or "" when no allergy matches them."""
    warnings = []
    for key in data:
        code = (data.get(key) or "").strip() if MEDICINE_CODE.match(key) else ""
        medicine = queries.concept_by_code(code, PICKER_USES["medicine"]) if code else None
        if medicine and (matches := services.allergies_matching(patient.pk, medicine)):
            warnings.append(services.allergy_warning_text(medicine, matches))
    return " ".join(warnings)


@requires("record_consultation")
def start_consultation(request, appointment_id):
    """'Start consultation' from my list: the consultation screen for that appointment."""
    appointment = found(appointment_for_practice, request.user.practice, appointment_id)
    consult = reverse("records:consult", args=[appointment.patient_id])
    return redirect(f"{consult}?appointment={appointment.pk}")


@requires("record_consultation")
def edit_consultation(request, patient_id, consultation_id):
    patient, elsewhere = _open(request, patient_id, "open_consultation_edit")
    if elsewhere:
        return elsewhere
    consultation = found(queries.consultation_for, patient, consultation_id)
    initial = {
        "consultation_type": consultation.consultation_type,
        "history": consultation.history,
        "examination": consultation.examination,
        "plan": consultation.plan,
        "version": consultation.version,
    }
    form = EditConsultationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.edit_consultation(
                consultation,
                request.user,
                reason=d["reason"],
                expected_version=d["version"],
                consultation_type=d["consultation_type"],
                history=d["history"],
                examination=d["examination"],
                plan=d["plan"],
            )
        except NotPermitted:
            raise
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Consultation changed; the previous version is kept.")
            return redirect("records:journal", patient_id=patient.pk)
    return _page(
        request,
        "records/edit_consultation.jinja",
        patient,
        "Edit consultation",
        {
            "form": form,
            "consultation": consultation,
            "versions": queries.earlier_versions(consultation),
        },
        status=400 if request.method == "POST" else 200,
    )


@requires("view_clinical_record")
def medicines(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "view_medicines")
    if elsewhere:
        return elsewhere
    history = queries.medication_history(patient)
    now = timezone.now()
    return _page(
        request,
        "records/medicines.jinja",
        patient,
        "Medicines",
        {
            "current": [m for m in history if queries.is_current(m, now)],
            "past": [m for m in history if not queries.is_current(m, now)],
        },
    )


@requires("prescribe")
def prescribe(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "open_prescribing")
    if elsewhere:
        return elsewhere
    form = PrescribeForm(request.POST or None)
    allergy_warning = None
    if _saving(request) and form.is_valid():
        medicine = _picked(form, "medicine", PICKER_USES["medicine"])
        if medicine is None and form.is_valid():
            form.add_error("medicine_q", "Choose a medicine.")
        if form.is_valid():
            try:
                services.prescribe(
                    patient,
                    request.user,
                    _new_medication(form.cleaned_data, medicine),
                    occurred_at=form.cleaned_data["occurred_at"],
                    allergy_confirmed=form.cleaned_data["allergy_confirmed"],
                    override_reason=form.cleaned_data["allergy_reason"],
                )
            except AllergyWarning as exc:
                allergy_warning = str(exc)
            except NotPermitted:
                raise
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Prescribed {medicine.term}.")
                return redirect("records:medicines", patient_id=patient.pk)
    data = request.POST if request.method == "POST" else request.GET
    return _page(
        request,
        "records/prescribe.jinja",
        patient,
        "Prescribe",
        {
            "form": form,
            "allergy_warning": allergy_warning or _allergy_warning(patient, data),
            "medicine_choices": _choices(data, "medicine"),
        },
        status=400 if _saving(request) else 200,
    )


def _medication(patient, raw_id):
    return found(queries.medication_for, patient, raw_id)


@require_POST
@requires("prescribe")
def issue(request, patient_id, medication_id):
    patient, elsewhere = _open(request, patient_id, "open_repeat_issue")
    if elsewhere:
        return elsewhere
    medication = _medication(patient, medication_id)
    try:
        made = services.issue_repeat(medication, request.user)
    except NotPermitted:
        raise
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Issued {medication.concept.term} (issue {made.number}).")
    return redirect("records:medicines", patient_id=patient.pk)


@require_POST
@requires("prescribe")
def stop(request, patient_id, medication_id):
    patient, elsewhere = _open(request, patient_id, "open_stop_medication")
    if elsewhere:
        return elsewhere
    medication = _medication(patient, medication_id)
    form = StopForm({"medication": medication.pk, "reason": request.POST.get("reason", "")})
    if not form.is_valid():
        messages.error(request, "Say why the medicine is stopped.")
        return redirect("records:medicines", patient_id=patient.pk)
    try:
        services.stop_medication(medication, request.user, form.cleaned_data["reason"])
    except NotPermitted:
        raise
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Stopped {medication.concept.term}.")
    return redirect("records:medicines", patient_id=patient.pk)


@requires("record_consultation")
def allergies(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "open_allergies")
    if elsewhere:
        return elsewhere
    form = AllergyForm(request.POST or None)
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST" and "no_known_allergies" in request.POST:
        try:
            services.record_no_known_allergies(patient, request.user)
        except NotPermitted:
            raise
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Recorded: no known allergies.")
        return redirect("records:summary", patient_id=patient.pk)
    if _saving(request) and form.is_valid():
        substance = _picked(form, "substance", PICKER_USES["substance"])
        reaction = None
        if code := form.cleaned_data["reaction"]:
            reaction = queries.concept_by_code(code, PICKER_USES["reaction"])
        if substance is None and form.is_valid():
            form.add_error("substance_q", "Choose a substance.")
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.record_allergy(
                    patient,
                    request.user,
                    substance,
                    severity=d["severity"],
                    certainty=d["certainty"],
                    reaction=reaction,
                    note=d["note"],
                )
            except NotPermitted:
                raise
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Recorded allergy to {substance.term}.")
                return redirect("records:summary", patient_id=patient.pk)
    return _page(
        request,
        "records/allergies.jinja",
        patient,
        "Allergies",
        {
            "form": form,
            "substance_choices": _choices(data, "substance"),
            "reactions": queries.concepts_for("reaction"),
        },
        status=400 if _saving(request) else 200,
    )


@requires("view_clinical_record")
def observations(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "view_observations")
    if elsewhere:
        return elsewhere
    series = []
    for kind, t in TYPES.items():
        rows = queries.observation_series(patient, kind)
        if rows:
            series.append({"type": t, "rows": rows, "svg": charts.trend_svg(t, rows)})
    return _page(request, "records/observations.jinja", patient, "Observations", {"series": series})


@requires("view_clinical_record")
def documents(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "view_documents")
    if elsewhere:
        return elsewhere
    return _page(
        request,
        "records/documents.jinja",
        patient,
        "Documents",
        {"documents": queries.documents(patient), "form": DocumentForm()},
    )


@require_POST
@requires("record_consultation")
def attach(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "open_attach_document")
    if elsewhere:
        return elsewhere
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.attach_document(
                patient, request.user, title=d["title"], kind=d["kind"], content=d["file"].read()
            )
        except NotPermitted:
            raise
        except DomainError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, f"Attached {d['title']}.")
            return redirect("records:documents", patient_id=patient.pk)
    return _page(
        request,
        "records/documents.jinja",
        patient,
        "Documents",
        {"documents": queries.documents(patient), "form": form},
        status=400,
    )


@requires("view_clinical_record")
def document_file(request, patient_id, document_id):
    patient, elsewhere = _open(request, patient_id, "view_document")
    if elsewhere:
        return elsewhere
    document = found(queries.document_for, patient, document_id)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@requires("record_consultation")
def add_flag(request, patient_id):
    patient, elsewhere = _open(request, patient_id, "open_add_flag")
    if elsewhere:
        return elsewhere
    form = FlagForm(request.POST)
    concept = None
    if form.is_valid():
        concept = queries.concept_by_code(form.cleaned_data["flag"], PICKER_USES["flag"])
    if concept is None:
        messages.error(request, "Choose an alert to add.")
    else:
        services.add_flag(patient, request.user, concept, note=form.cleaned_data["note"])
        messages.success(request, f"Alert added: {concept.term}.")
    return redirect("records:summary", patient_id=patient.pk)


@requires("record_consultation")
def concepts(request):
    """As-you-type code search; answers the picker's htmx request with a list of options."""
    name = request.GET.get("picker", "problem")
    if not PICKER_NAME.match(name):
        name = "problem"
    query = request.GET.get(f"{name}_q", request.GET.get("q", ""))[:100]
    return render(
        request,
        "records/_picker_options.jinja",
        {
            "name": name,
            "choices": queries.search_concepts(query, PICKER_USES[_picker_kind(name)]),
            "query": query,
        },
    )
