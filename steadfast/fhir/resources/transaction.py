"""POST /fhir/ with a `transaction` Bundle: patients and their records from another GP system.

All or nothing: every entry is written through the records services inside one database
transaction, and any refusal rolls the whole Bundle back. Patients are created conditionally on
their NHS number (`request.ifNoneExist`), and an entry the record already holds (same patient,
code and date) is not made again, so running the same import twice creates nothing new.
Imported entries keep their original dates and are marked retrospective.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pydantic
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from fhir.resources.R4B import get_fhir_model_class
from ninja import Router

from steadfast.errors import DomainError, DuplicateNHSNumber, PossibleDuplicatePatient
from steadfast.fhir.access import requires
from steadfast.fhir.body import read_json_body
from steadfast.fhir.capabilities import DMD, NHS_NUMBER, SNOMED, body_openapi
from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import fhir_response
from steadfast.fhir.lookups import one_or_422
from steadfast.fhir.resources.patient import register_from_fhir
from steadfast.fhir.resources.record import (
    BP_PANEL,
    DIASTOLIC_LOINC,
    LOINC,
    SYSTOLIC_LOINC,
    UCUM_CODES,
)
from steadfast.fhir.search import reference_id
from steadfast.patients.models import Patient
from steadfast.records import services
from steadfast.records.models import (
    Allergy,
    Certainty,
    CodeSystem,
    Concept,
    Immunisation,
    Medication,
    MedicationKind,
    Observation,
    ObservationKind,
    Problem,
    ProblemStatus,
    Severity,
)
from steadfast.records.observations import SMOKING_STATUS, TYPES

router = Router(tags=["Transaction"])

CLINICAL_TYPES = (
    "Condition",
    "Observation",
    "AllergyIntolerance",
    "MedicationRequest",
    "Immunization",
)
IMPORTABLE = ("Patient", *CLINICAL_TYPES)
# Vital signs as LOINC codes them (FHIR's vital signs profile), for senders that send only LOINC.
LOINC_KINDS = {
    "8867-4": ObservationKind.PULSE,
    "29463-7": ObservationKind.WEIGHT,
    "8302-2": ObservationKind.HEIGHT,
    "8310-5": ObservationKind.TEMPERATURE,
}
BP = TYPES[ObservationKind.BLOOD_PRESSURE]
SYSTOLIC = {(LOINC, SYSTOLIC_LOINC), (SNOMED, BP.code)}
DIASTOLIC = {(LOINC, DIASTOLIC_LOINC), (SNOMED, BP.code2)}
RESOLVED = {"inactive", "remission", "resolved"}


@dataclass
class Entry:
    number: int  # position in the Bundle, for messages
    full_url: str
    resource_type: str
    raw: dict[str, Any]
    model: Any  # the parsed fhir.resources model
    if_none_exist: str


@dataclass
class Written:
    status: str
    location: str


def _entries(bundle: dict) -> list[Entry]:
    if bundle.get("resourceType") != "Bundle":
        raise FHIRError(400, "Send a Bundle of type transaction.")
    if bundle.get("type") != "transaction":
        raise FHIRError(400, "Only transaction Bundles are accepted here.")
    raw_entries = bundle.get("entry") or []
    if not isinstance(raw_entries, list):
        raise FHIRError(400, "Bundle.entry must be a list.")
    entries = []
    for n, e in enumerate(raw_entries):
        resource = e.get("resource") if isinstance(e, dict) else None
        request = e.get("request") if isinstance(e, dict) else None
        if not isinstance(resource, dict) or not isinstance(request, dict):
            raise FHIRError(400, f"entry {n}: needs a resource and a request.")
        resource_type = resource.get("resourceType")
        if resource_type not in IMPORTABLE:
            raise FHIRError(
                422, f"entry {n}: {resource_type} cannot be imported; send {', '.join(IMPORTABLE)}."
            )
        if request.get("method") != "POST" or request.get("url") != resource_type:
            raise FHIRError(422, f"entry {n}: only POST {resource_type} is supported.")
        try:
            model = get_fhir_model_class(resource_type).model_validate(resource)
        except pydantic.ValidationError as exc:
            where = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
            )
            raise FHIRError(422, f"entry {n}: not valid FHIR R4 {resource_type}: {where}") from exc
        entries.append(
            Entry(
                number=n,
                full_url=str(e.get("fullUrl") or ""),
                resource_type=resource_type,
                raw=resource,
                model=model,
                if_none_exist=str(request.get("ifNoneExist") or ""),
            )
        )
    return entries


@router.post("/", url_name="transaction", openapi_extra=body_openapi("Bundle"))
@requires("record_consultation")
def transaction_bundle(request):
    """Import a transaction Bundle of Patients and their record, all or nothing."""
    entries = _entries(read_json_body(request))
    importer = Importer(request.user)
    written: dict[int, Written] = {}
    ordered = sorted(entries, key=lambda e: e.resource_type != "Patient")  # patients first
    with transaction.atomic():
        for entry in ordered:
            try:
                written[entry.number] = importer.write(entry)
            except FHIRError as exc:
                raise FHIRError(exc.status, f"entry {entry.number}: {exc.diagnostics}") from exc
            except (DuplicateNHSNumber, PossibleDuplicatePatient) as exc:
                raise FHIRError(409, f"entry {entry.number}: {exc}", "duplicate") from exc
            except DomainError as exc:
                raise FHIRError(422, f"entry {entry.number}: {exc}", "business-rule") from exc
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "timestamp": timezone.now().isoformat(),
            "entry": [
                {
                    "response": {
                        "status": written[e.number].status,
                        "location": written[e.number].location,
                    }
                }
                for e in entries
            ],
        }
    )


# --- reading FHIR values -----------------------------------------------------------------------


def _moment(value: str | None, what: str) -> datetime:
    """A FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD or with a time) as an instant."""
    if not value:
        raise FHIRError(422, f"{what} is required.")
    text = str(value)
    if "T" in text:
        moment = parse_datetime(text)
        if moment is None:
            raise FHIRError(422, f"{what}: {text!r} is not a dateTime.")
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
    try:
        parts = [int(p) for p in text.split("-")] + [1, 1]
        day = date(parts[0], parts[1], parts[2])
    except (ValueError, OverflowError) as exc:
        raise FHIRError(422, f"{what}: {text!r} is not a date.") from exc
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _codings(concept: dict | None) -> list[tuple[str, str]]:
    return [
        (c.get("system", ""), c.get("code", ""))
        for c in (concept or {}).get("coding") or []
        if c.get("code")
    ]


def _concept(codeable: dict | None, system: str, what: str, uses: tuple[str, ...]) -> Concept:
    """The Concept a CodeableConcept names in `system`; 422 naming the code when we lack it."""
    fhir_system = DMD if system == CodeSystem.DMD else SNOMED
    codes = [code for s, code in _codings(codeable) if s == fhir_system]
    if system == CodeSystem.DMD:  # dm+d ids are SNOMED CT ids: accept either system
        codes += [code for s, code in _codings(codeable) if s == SNOMED]
    if not codes:
        raise FHIRError(422, f"{what} needs a code from {fhir_system}.")
    for code in codes:
        found = Concept.objects.filter(system=system, code=code, use__in=uses).first()
        if found is not None:
            return found
    raise FHIRError(
        422, f"{what}: code {codes[0]} ({fhir_system}) is not in this system's terminology."
    )


def _require_known_snomed(codeables: list[dict | None], what: str) -> None:
    for codeable in codeables:
        for system, code in _codings(codeable):
            if system == SNOMED and not Concept.objects.filter(system="snomed", code=code).exists():
                raise FHIRError(
                    422, f"{what}: code {code} ({SNOMED}) is not in this system's terminology."
                )


def _quantity_value(quantity: dict | None, unit: str, what: str):
    if not quantity or quantity.get("value") is None:
        raise FHIRError(422, f"{what} needs a valueQuantity.")
    code = quantity.get("code")
    if code is not None and code != UCUM_CODES.get(unit, unit):
        raise FHIRError(422, f"{what}: unit {code!r} is not accepted; send {UCUM_CODES[unit]}.")
    return quantity["value"]


# --- writing each kind -------------------------------------------------------------------------


class Importer:
    """Writes a Bundle's entries for one user; remembers the patients each fullUrl names."""

    def __init__(self, user) -> None:
        self.user = user
        self.patients: dict[str, Patient] = {}

    def write(self, entry: Entry) -> Written:
        if entry.resource_type == "Patient":
            return self.patient(entry)
        write = {
            "Condition": self.condition,
            "Observation": self.observation,
            "AllergyIntolerance": self.allergy,
            "MedicationRequest": self.medication,
            "Immunization": self.immunisation,
        }[entry.resource_type]
        return write(entry)

    # Patients -------------------------------------------------------------------------------

    def patient(self, entry: Entry) -> Written:
        nhs_number = _conditional_nhs_number(entry.if_none_exist)
        found = None
        if nhs_number is not None:
            found = Patient.objects.filter(
                practice_id=self.user.practice_id, nhs_number=nhs_number
            ).first()
        if found is None:
            # References to the sending system's practitioners mean nothing here.
            resource = entry.model.model_copy(update={"generalPractitioner": None})
            found, status = register_from_fhir(resource, self.user), "201 Created"
        else:
            status = "200 OK"
        if entry.full_url:
            self.patients[entry.full_url] = found
        return Written(status, f"Patient/{found.pk}")

    def _subject(self, entry: Entry, field: str) -> Patient:
        reference = (entry.raw.get(field) or {}).get("reference") or ""
        if reference.startswith("urn:"):
            if reference not in self.patients:
                raise FHIRError(422, f"{field} {reference} is not a Patient in this Bundle.")
            return self.patients[reference]
        if not reference:
            raise FHIRError(422, f"{field} must reference the Patient.")
        patients = Patient.objects.filter(practice_id=self.user.practice_id)
        return one_or_422(patients, "Patient", reference_id(reference, "Patient"))

    def _made(self, existing, make, resource_type: str) -> Written:
        """The entry the record already holds (200), or the one `make` writes (201)."""
        if existing is not None:
            return Written("200 OK", f"{resource_type}/{existing.pk}")
        made = make()
        made = made[0] if isinstance(made, list) else made
        return Written("201 Created", f"{resource_type}/{made.pk}")

    # Clinical entries -----------------------------------------------------------------------

    def condition(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "subject")
        concept = _concept(
            r.get("code"), CodeSystem.SNOMED, "Condition.code", ("problem", "finding")
        )
        onset = _moment(r.get("onsetDateTime") or r.get("recordedDate"), "Condition.onsetDateTime")
        recorded = (
            _moment(r.get("recordedDate"), "recordedDate") if r.get("recordedDate") else onset
        )
        clinical = {code for _, code in _codings(r.get("clinicalStatus"))}
        status = ProblemStatus.PAST if clinical & RESOLVED else ProblemStatus.ACTIVE
        onset_day = timezone.localdate(onset)
        existing = Problem.objects.filter(patient=who, concept=concept, onset=onset_day).first()
        new = services.NewProblem(concept, onset=onset_day, status=status)
        return self._made(
            existing,
            lambda: services.add_problem(
                who, self.user, new, occurred_at=max(recorded, onset), retrospective=True
            ),
            "Condition",
        )

    def observation(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "subject")
        components = r.get("component") or []
        _require_known_snomed(
            [r.get("code"), r.get("valueCodeableConcept"), *(c.get("code") for c in components)],
            "Observation",
        )
        new = _new_observation(r)
        when = _moment(r.get("effectiveDateTime") or r.get("issued"), "effectiveDateTime")
        existing = Observation.objects.filter(
            patient=who, kind=new.kind, occurred_at=when, derived=False
        ).first()
        return self._made(
            existing,
            lambda: services.record_observation(
                who, self.user, new, occurred_at=when, retrospective=True
            ),
            "Observation",
        )

    def allergy(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "patient")
        substance = _concept(
            r.get("code"), CodeSystem.SNOMED, "AllergyIntolerance.code", ("allergen",)
        )
        reactions = r.get("reaction") or []
        reaction = None
        if reactions and reactions[0].get("manifestation"):
            manifestation = reactions[0]["manifestation"][0]
            reaction = _concept(manifestation, CodeSystem.SNOMED, "manifestation", ("reaction",))
        severity = (reactions[0].get("severity") if reactions else None) or (
            Severity.SEVERE if r.get("criticality") == "high" else Severity.MODERATE
        )
        verified = {code for _, code in _codings(r.get("verificationStatus"))}
        certainty = Certainty.CONFIRMED if "confirmed" in verified else Certainty.SUSPECTED
        when = _moment(r.get("onsetDateTime") or r.get("recordedDate"), "onsetDateTime")
        note = " ".join(n.get("text", "") for n in r.get("note") or [])[:500]
        existing = Allergy.objects.filter(patient=who, substance=substance).first()
        return self._made(
            existing,
            lambda: services.record_allergy(
                who,
                self.user,
                substance,
                severity=severity,
                certainty=certainty,
                reaction=reaction,
                note=note,
                occurred_at=when,
                retrospective=True,
            ),
            "AllergyIntolerance",
        )

    def medication(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "subject")
        medicine = _concept(
            r.get("medicationCodeableConcept"), CodeSystem.DMD, "medication", ("medicine",)
        )
        when = _moment(r.get("authoredOn"), "MedicationRequest.authoredOn")
        course = {code for _, code in _codings(r.get("courseOfTherapyType"))}
        repeat = "continuous" in course
        dispense = r.get("dispenseRequest") or {}
        quantity = (dispense.get("quantity") or {}).get("value")
        if not isinstance(quantity, int | float) or quantity < 1 or int(quantity) != quantity:
            raise FHIRError(
                422, "MedicationRequest needs dispenseRequest.quantity (a whole number)."
            )
        dosage = r.get("dosageInstruction") or [{}]
        new = services.NewMedication(
            medicine,
            MedicationKind.REPEAT if repeat else MedicationKind.ACUTE,
            dose=dosage[0].get("text") or "",
            quantity=int(quantity),
            quantity_unit=(dispense.get("quantity") or {}).get("unit") or "tablet",
            issues_allowed=(dispense.get("numberOfRepeatsAllowed") or 0) + 1 if repeat else None,
        )
        existing = Medication.objects.filter(
            patient=who, concept=medicine, occurred_at=when
        ).first()
        # A prescription made in the old system is history: its allergy check was done there.
        return self._made(
            existing,
            lambda: services.prescribe(
                who,
                self.user,
                new,
                allergy_confirmed=True,
                occurred_at=when,
                retrospective=True,
            ),
            "MedicationRequest",
        )

    def immunisation(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "patient")
        vaccine = _concept(r.get("vaccineCode"), CodeSystem.SNOMED, "vaccineCode", ("vaccination",))
        when = _moment(r.get("occurrenceDateTime"), "Immunization.occurrenceDateTime")
        protocol = r.get("protocolApplied") or [{}]
        dose = protocol[0].get("doseNumberPositiveInt") or 1
        existing = Immunisation.objects.filter(
            patient=who, vaccine=vaccine, occurred_at=when
        ).first()
        return self._made(
            existing,
            lambda: services.record_immunisation(
                who,
                self.user,
                vaccine,
                batch=r.get("lotNumber") or "",
                dose_number=dose,
                occurred_at=when,
                retrospective=True,
            ),
            "Immunization",
        )


def _conditional_nhs_number(if_none_exist: str) -> str | None:
    if not if_none_exist:
        return None
    name, _, token = if_none_exist.partition("=")
    system, _, value = token.rpartition("|")
    if name != "identifier" or system != NHS_NUMBER or not value:
        raise FHIRError(422, f"ifNoneExist must be identifier={NHS_NUMBER}|<NHS number>.")
    return value


def _new_observation(r: dict) -> services.NewObservation:
    """What was measured, from the codes: blood pressure as a component pair, smoking status,
    or one of the measurements the record keeps."""
    codes = set(_codings(r.get("code")))
    components = r.get("component") or []
    if components or (LOINC, BP_PANEL) in codes:
        values = {}
        for c in components:
            component_codes = set(_codings(c.get("code")))
            for name, wanted in (("systolic", SYSTOLIC), ("diastolic", DIASTOLIC)):
                if component_codes & wanted:
                    values[name] = _quantity_value(c.get("valueQuantity"), BP.unit, name)
        if set(values) != {"systolic", "diastolic"}:
            raise FHIRError(
                422,
                f"Blood pressure needs a systolic ({LOINC}|{SYSTOLIC_LOINC}) and a diastolic"
                f" ({LOINC}|{DIASTOLIC_LOINC}) component.",
            )
        return services.NewObservation(
            ObservationKind.BLOOD_PRESSURE, values["systolic"], values["diastolic"]
        )
    smoking = {code: key for key, code in SMOKING_STATUS.items()}
    for system, code in codes | set(_codings(r.get("valueCodeableConcept"))):
        if system == SNOMED and code in smoking:
            return services.NewObservation(ObservationKind.SMOKING, smoking=smoking[code])
    for system, code in codes:
        kind = LOINC_KINDS.get(code) if system == LOINC else None
        kind = kind or next(
            (k for k, t in TYPES.items() if system == SNOMED and t.code == code), None
        )
        if kind == ObservationKind.BMI:
            raise FHIRError(422, "BMI is calculated from weight and height; send those.")
        if kind is not None:
            value = _quantity_value(r.get("valueQuantity"), TYPES[kind].unit, TYPES[kind].label)
            return services.NewObservation(kind, value)
    named = ", ".join(f"{code} ({system})" for system, code in sorted(codes)) or "none"
    raise FHIRError(422, f"Observation code {named} is not one this system records.")
