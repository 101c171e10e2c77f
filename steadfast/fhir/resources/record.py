"""The patient record as FHIR: Encounter, Condition, AllergyIntolerance, MedicationRequest and
MedicationStatement, Observation (blood pressure as a component pair), Immunization,
DocumentReference; and Flag (banner alerts), so far in the history feed only.

Each is read by id or searched by patient, and each read opens the record through the same audit
gate as the record pages. `$everything` gives the whole record at once, audited once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from uuid import UUID

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from ninja import Router

from steadfast.appointments.models import Appointment
from steadfast.fhir.access import open_patient_record, requires
from steadfast.fhir.bundles import full_url, searchset
from steadfast.fhir.capabilities import DMD, RESOURCES, SNOMED, search_openapi
from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import compact, fhir_response
from steadfast.fhir.lookups import one_or_404
from steadfast.fhir.resources.appointment import appointment as appointment_resource
from steadfast.fhir.resources.patient import patient as patient_resource
from steadfast.fhir.resources.received import (
    BP_PANEL,
    DIASTOLIC_LOINC,
    LOINC,
    SYSTOLIC_LOINC,
    UCUM,
    UCUM_CODES,
    component_codes_as_sent,
    returned_as_sent,
)
from steadfast.fhir.search import check_parameters, paging, reference_id
from steadfast.patients.models import Patient
from steadfast.records.models import (
    Allergy,
    Certainty,
    Consultation,
    ConsultationType,
    Document,
    Immunisation,
    Medication,
    MedicationKind,
    NoKnownAllergies,
    Observation,
    ObservationKind,
    PatientFlag,
    Problem,
    ProblemStatus,
    Severity,
)
from steadfast.records.observations import TYPES

router = Router(tags=["Patient record"])

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
COURSE_OF_THERAPY = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"

LABORATORY = {ObservationKind.HBA1C, ObservationKind.EGFR, ObservationKind.CHOLESTEROL}
ENCOUNTER_CLASS = {
    ConsultationType.FACE_TO_FACE: ("AMB", "ambulatory"),
    ConsultationType.TELEPHONE: ("VR", "virtual"),
    ConsultationType.VIDEO: ("VR", "virtual"),
    ConsultationType.HOME_VISIT: ("HH", "home health"),
}


def _coding(system: str, concept) -> dict:
    return {"system": system, "code": concept.code, "display": concept.term}


def _snomed(concept) -> dict:
    return {"coding": [_coding(SNOMED, concept)], "text": concept.term}


def _patient_ref(entry) -> dict:
    return {"reference": f"Patient/{entry.patient_id}"}


def _recorder(entry) -> dict:
    return {"reference": f"Practitioner/{entry.recorded_by_id}"}


def _encounter_ref(consultation_id) -> dict | None:
    return {"reference": f"Encounter/{consultation_id}"} if consultation_id else None


def _number(value: Decimal) -> int | float:
    """A stored decimal as a JSON number (FHIR decimals are numbers, never strings)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _quantity(value: Decimal, unit: str) -> dict:
    return {
        "value": _number(value),
        "unit": unit,
        "system": UCUM,
        "code": UCUM_CODES.get(unit, unit),
    }


def encounter(c: Consultation, request=None) -> dict:
    code, display = ENCOUNTER_CLASS[c.consultation_type]
    parts = [
        (label, text)
        for label, text in (
            ("History", c.history),
            ("Examination", c.examination),
            ("Plan", c.plan),
        )
        if text
    ]
    div = "".join(f"<p><b>{label}</b>: {escape(text)}</p>" for label, text in parts)
    return {
        "resourceType": "Encounter",
        "id": str(c.pk),
        "meta": {"versionId": str(c.version)},
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{div}</div>',
        },
        "status": "finished",
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "type": [{"text": c.get_consultation_type_display()}],
        "subject": _patient_ref(c),
        "participant": [{"individual": _recorder(c)}],
        "appointment": [{"reference": f"Appointment/{c.appointment_id}"}]
        if c.appointment_id
        else None,
        "period": {"start": c.occurred_at.isoformat()},
    }


def condition(p: Problem, request=None) -> dict:
    active = p.status == ProblemStatus.ACTIVE
    body = {
        "resourceType": "Condition",
        "id": str(p.pk),
        "clinicalStatus": {
            "coding": [{"system": CONDITION_CLINICAL, "code": "active" if active else "resolved"}]
        },
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": _snomed(p.concept),
        "subject": _patient_ref(p),
        "onsetDateTime": p.onset.isoformat() if p.onset else None,
        "abatementDateTime": p.ended.isoformat() if p.ended else None,
        "recordedDate": p.recorded_at.isoformat(),
        "recorder": _recorder(p),
        "note": [{"text": f"{p.get_significance_display()} problem"}],
    }
    return returned_as_sent("Condition", body, p.as_received)


def allergy_intolerance(a: Allergy, request=None) -> dict:
    reaction = None
    if a.reaction_id:
        reaction = [{"manifestation": [_snomed(a.reaction)], "severity": a.severity}]
    elif a.reaction_text:
        reaction = [{"manifestation": [{"text": a.reaction_text}], "severity": a.severity}]
    confirmed = a.certainty == Certainty.CONFIRMED
    body = {
        "resourceType": "AllergyIntolerance",
        "id": str(a.pk),
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
        "verificationStatus": {
            "coding": [
                {
                    "system": ALLERGY_VERIFICATION,
                    "code": "confirmed" if confirmed else "unconfirmed",
                }
            ]
        },
        "type": "allergy",
        "criticality": "high" if a.severity == Severity.SEVERE else "low",
        "code": _snomed(a.substance),
        "patient": _patient_ref(a),
        "onsetDateTime": a.occurred_at.isoformat(),
        "recordedDate": a.recorded_at.isoformat(),
        "recorder": _recorder(a),
        "note": [{"text": a.note}] if a.note else None,
        "reaction": reaction,
    }
    return returned_as_sent("AllergyIntolerance", body, a.as_received)


def no_known_allergy(n: NoKnownAllergies, request=None) -> dict:
    """A coded statement such as "No known drug allergy", as UK Core sends it. (The API serves
    coded statements only; the history feed serves every statement, an uncoded one by text.)"""
    body = {
        "resourceType": "AllergyIntolerance",
        "id": str(n.pk),
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": ALLERGY_VERIFICATION, "code": "confirmed"}]},
        "code": _snomed(n.concept) if n.concept_id else {"text": "No known allergies"},
        "patient": _patient_ref(n),
        "recordedDate": n.recorded_at.isoformat(),
        "recorder": _recorder(n),
    }
    return returned_as_sent("AllergyIntolerance", body, n.as_received)


def flag(f: PatientFlag, request=None) -> dict:
    """A banner alert (e.g. "Cares for a relative"), active until it is ended."""
    period = {"start": f.occurred_at.isoformat()}
    if f.ended_at:
        period["end"] = f.ended_at.isoformat()
    return {
        "resourceType": "Flag",
        "id": str(f.pk),
        "status": "active" if f.ended_at is None else "inactive",
        "code": _snomed(f.concept),
        "subject": _patient_ref(f),
        "period": period,
        "author": _recorder(f),
    }


def medication_request(m: Medication, request=None) -> dict:
    repeat = m.kind == MedicationKind.REPEAT
    body = {
        "resourceType": "MedicationRequest",
        "id": str(m.pk),
        "status": "active" if m.stopped_at is None else "stopped",
        "statusReason": {"text": m.stop_reason} if m.stop_reason else None,
        "intent": "order",
        "courseOfTherapyType": {
            "coding": [
                {
                    "system": COURSE_OF_THERAPY,
                    "code": "continuous" if repeat else "acute",
                    "display": "Continuous long term therapy" if repeat else "Short course",
                }
            ]
        },
        "medicationCodeableConcept": {
            "coding": [_coding(DMD, m.concept)],
            "text": m.concept.term,
        },
        "subject": _patient_ref(m),
        "encounter": _encounter_ref(m.consultation_id),
        "authoredOn": m.occurred_at.isoformat(),
        "requester": _recorder(m),
        "dosageInstruction": [
            {"text": m.dose, "route": {"text": m.route} if m.route else None},
        ],
        "dispenseRequest": {
            "quantity": {"value": m.quantity, "unit": m.quantity_unit}
            if m.quantity is not None
            else None,
            "numberOfRepeatsAllowed": (m.issues_allowed - 1) if repeat else None,
        },
    }
    return returned_as_sent("MedicationRequest", body, m.as_received)


def medication_statement(m: Medication, request=None) -> dict:
    """The same prescription seen as what the patient takes (or took), for readers that ask
    for statements (e.g. a medicines reconciliation on admission)."""
    body = {
        "resourceType": "MedicationStatement",
        "id": str(m.pk),
        "basedOn": [{"reference": f"MedicationRequest/{m.pk}"}],
        "status": "active" if m.stopped_at is None else "stopped",
        "statusReason": [{"text": m.stop_reason}] if m.stop_reason else None,
        "medicationCodeableConcept": {
            "coding": [_coding(DMD, m.concept)],
            "text": m.concept.term,
        },
        "subject": _patient_ref(m),
        "context": _encounter_ref(m.consultation_id),
        "effectivePeriod": {
            "start": m.occurred_at.isoformat(),
            "end": m.stopped_at.isoformat() if m.stopped_at else None,
        },
        "dateAsserted": m.recorded_at.isoformat(),
        "informationSource": _recorder(m),
        "dosage": [{"text": m.dose, "route": {"text": m.route} if m.route else None}],
    }
    sent = (m.as_received or {}).get("medicationCodeableConcept")
    if sent:
        body["medicationCodeableConcept"] = sent
    return body


def observation(o: Observation, request=None) -> dict:
    if o.kind == ObservationKind.SMOKING:
        category = "social-history"
    elif o.kind in LABORATORY:
        category = "laboratory"
    else:
        category = "vital-signs"
    body = {
        "resourceType": "Observation",
        "id": str(o.pk),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
        "code": _snomed(o.concept),
        "subject": _patient_ref(o),
        "encounter": _encounter_ref(o.consultation_id),
        "effectiveDateTime": o.occurred_at.isoformat(),
        "issued": o.recorded_at.isoformat(),
        "performer": [_recorder(o)],
    }
    sent_components = component_codes_as_sent(o.as_received)
    if o.kind == ObservationKind.BLOOD_PRESSURE:
        t = TYPES[ObservationKind.BLOOD_PRESSURE]
        body["code"] = {
            "coding": [{"system": LOINC, "code": BP_PANEL, "display": "Blood pressure panel"}],
            "text": "Blood pressure",
        }
        body["component"] = [
            {
                "code": sent_components.get(name)
                or {
                    "coding": [
                        {"system": LOINC, "code": loinc, "display": label},
                        {"system": SNOMED, "code": snomed, "display": label},
                    ],
                    "text": label,
                },
                "valueQuantity": _quantity(value, o.unit),
            }
            for name, loinc, snomed, label, value in (
                ("systolic", SYSTOLIC_LOINC, t.code, "Systolic blood pressure", o.value),
                ("diastolic", DIASTOLIC_LOINC, t.code2, "Diastolic blood pressure", o.value2),
            )
        ]
    elif o.value is not None:
        body["valueQuantity"] = _quantity(o.value, o.unit)
    if o.derived:
        body["note"] = [{"text": "Calculated from the latest weight and height"}]
    return returned_as_sent("Observation", body, o.as_received)


def immunization(i: Immunisation, request=None) -> dict:
    body = {
        "resourceType": "Immunization",
        "id": str(i.pk),
        "status": "completed",
        "vaccineCode": _snomed(i.vaccine),
        "patient": _patient_ref(i),
        "encounter": _encounter_ref(i.consultation_id),
        "occurrenceDateTime": i.occurred_at.isoformat(),
        "recorded": i.recorded_at.isoformat(),
        "primarySource": not i.retrospective,
        "lotNumber": i.batch or None,
        "performer": [{"actor": _recorder(i)}],
        "protocolApplied": [{"doseNumberPositiveInt": i.dose_number}],
    }
    return returned_as_sent("Immunization", body, i.as_received)


def document_reference(d: Document, request) -> dict:
    path = reverse("records:document", args=[d.patient_id, d.pk])
    return {
        "resourceType": "DocumentReference",
        "id": str(d.pk),
        "status": "current",
        "type": {"text": d.get_kind_display()},
        "subject": _patient_ref(d),
        "date": d.recorded_at.isoformat(),
        "author": [_recorder(d)],
        "description": d.title,
        "content": [
            {
                "attachment": {
                    "contentType": d.content_type,
                    "url": request.build_absolute_uri(path),
                    "size": d.size,
                    "title": d.title,
                    "creation": d.occurred_at.isoformat(),
                }
            }
        ],
        "context": {"period": {"start": d.occurred_at.isoformat()}},
    }


@dataclass(frozen=True)
class RecordType:
    """How one kind of record entry is found and written as a FHIR resource."""

    model: type
    related: tuple[str, ...]
    build: Callable
    audit_action: str
    in_everything: bool = True  # False for a second view of entries another type already shows
    also: "RecordType | None" = None  # a second table served as the same resource type

    def entries(self, practice_id) -> QuerySet:
        found = self.model.objects.filter(practice_id=practice_id).select_related(*self.related)
        if self.model is NoKnownAllergies:
            found = found.filter(concept__isnull=False)  # only a coded statement is a resource
        return found.defer("content") if self.model is Document else found

    def kinds(self) -> list["RecordType"]:
        return [self, self.also] if self.also else [self]


RECORD_TYPES: dict[str, RecordType] = {
    "Encounter": RecordType(Consultation, (), encounter, "view_record_consultation"),
    "Condition": RecordType(Problem, ("concept",), condition, "view_record_problem"),
    "AllergyIntolerance": RecordType(
        Allergy,
        ("substance", "reaction"),
        allergy_intolerance,
        "view_record_allergy",
        also=RecordType(NoKnownAllergies, ("concept",), no_known_allergy, "view_record_allergy"),
    ),
    "MedicationRequest": RecordType(
        Medication, ("concept",), medication_request, "view_record_medication"
    ),
    "MedicationStatement": RecordType(
        Medication,
        ("concept",),
        medication_statement,
        "view_record_medication",
        in_everything=False,
    ),
    "Observation": RecordType(Observation, ("concept",), observation, "view_record_observation"),
    "Immunization": RecordType(
        Immunisation, ("vaccine",), immunization, "view_record_immunisation"
    ),
    "DocumentReference": RecordType(Document, (), document_reference, "view_document"),
}


def _patients(request) -> QuerySet[Patient]:
    return Patient.objects.filter(practice_id=request.user.practice_id)


def _add_routes(resource_type: str, kind: RecordType) -> None:
    slug = resource_type.lower()

    @requires("view_clinical_record")
    def read(request, resource_id: str):
        for k in kind.kinds():
            try:
                entry = one_or_404(
                    k.entries(request.user.practice_id).select_related("patient"),
                    resource_type,
                    resource_id,
                )
            except FHIRError:
                if k is kind.kinds()[-1]:
                    raise
                continue
            open_patient_record(request.user, entry.patient, k.audit_action)
            return fhir_response(k.build(entry, request))

    @requires("view_clinical_record")
    def search(request):
        check_parameters(request, RESOURCES[resource_type].parameters)
        page = paging(request)
        wanted = request.GET.getlist("patient")
        if len(wanted) != 1:
            raise FHIRError(400, f"Search {resource_type} by one patient: ?patient=Patient/{{id}}.")
        patient_id = reference_id(wanted[0], "Patient")
        who = _patients(request).filter(pk=patient_id).first() if _is_uuid(patient_id) else None
        if who is None:
            return fhir_response(searchset(request, 0, [], page))
        open_patient_record(request.user, who, kind.audit_action)
        total, rows = 0, []
        for k in kind.kinds():
            found = k.entries(request.user.practice_id).filter(patient=who)
            total += found.count()
            end = page.offset + page.count
            rows += [(e, k) for e in found.order_by("-occurred_at", "-id")[:end]]
        rows.sort(key=lambda row: (row[0].occurred_at, str(row[0].pk)), reverse=True)
        matches = [k.build(e, request) for e, k in rows[page.offset : page.offset + page.count]]
        return fhir_response(searchset(request, total, matches, page))

    read.__name__ = f"read_{slug}"
    search.__name__ = f"search_{slug}"
    router.get(
        f"/{resource_type}/{{resource_id}}", url_name=f"{slug}_read", operation_id=f"read_{slug}"
    )(read)
    router.get(
        f"/{resource_type}",
        url_name=f"{slug}_search",
        operation_id=f"search_{slug}",
        openapi_extra=search_openapi(resource_type),
    )(search)


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


for _resource_type, _kind in RECORD_TYPES.items():
    _add_routes(_resource_type, _kind)


# --- $everything -------------------------------------------------------------------------------


def everything(request, patient: Patient) -> list[dict]:
    """The patient, every entry of their record, and their appointments: a query per kind."""
    resources = [patient_resource(patient)]
    for kind in (k for t in RECORD_TYPES.values() if t.in_everything for k in t.kinds()):
        found = kind.entries(patient.practice_id).filter(patient=patient)
        resources += [kind.build(e, request) for e in found.order_by("-occurred_at", "-id")]
    appointments = (
        Appointment.objects.filter(practice_id=patient.practice_id, patient=patient)
        .select_related("slot", "slot__clinician")
        .order_by("-slot__start")
    )
    resources += [appointment_resource(a) for a in appointments]
    return resources


def patient_bundle(request, patient: Patient) -> dict:
    """The patient's whole record as a collection Bundle: what the Export page downloads."""
    resources = everything(request, patient)
    return compact(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": timezone.now().isoformat(),
            "entry": [{"fullUrl": full_url(request, r), "resource": r} for r in resources],
        }
    )


@router.get(
    "/Patient/{resource_id}/$everything",
    url_name="patient_everything",
    operation_id="patient_everything",
)
@requires("view_clinical_record")
def patient_everything(request, resource_id: str):
    """The patient's whole record (and appointments) as one searchset Bundle."""
    check_parameters(request, set())
    who = one_or_404(_patients(request), "Patient", resource_id)
    open_patient_record(request.user, who, "view_record_everything")
    resources = everything(request, who)
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": timezone.now().isoformat(),
            "total": len(resources),
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": [
                {"fullUrl": full_url(request, r), "resource": r, "search": {"mode": "match"}}
                for r in resources
            ],
        }
    )
