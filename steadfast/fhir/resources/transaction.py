"""POST /fhir/ with a `transaction` Bundle: patients and their records from another GP system.

All or nothing: every entry is written through the records services inside one database
transaction, and any refusal rolls the whole Bundle back. Patients are created conditionally on
their NHS number (`request.ifNoneExist`), and an entry the record already holds (same patient,
code and date) is not made again, so running the same import twice creates nothing new.
Imported entries keep their original dates, are marked retrospective and keep the resource as it
was received; what is kept but not part of the record is named in a warning on the entry.
"""

from dataclasses import dataclass, field
from typing import Any

import pydantic
from django.db import transaction
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from ninja import Router

from steadfast.errors import (
    DomainError,
    DuplicateNHSNumber,
    NotPermitted,
    PossibleDuplicatePatient,
)
from steadfast.fhir.access import requires
from steadfast.fhir.body import read_json_body
from steadfast.fhir.capabilities import TRANSACTION_TYPES, body_openapi
from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import fhir_response
from steadfast.fhir.lookups import one_or_422
from steadfast.fhir.resources.patient import (
    conditional_nhs_number,
    not_held,
    register_from_fhir,
)
from steadfast.fhir.resources.received import (
    codings,
    held_concept,
    moment,
    new_observation,
    not_returned,
    optional_moment,
    refuse_modifier_extensions,
    text_of,
)
from steadfast.fhir.resources.statuses import refuse_retracted
from steadfast.fhir.search import reference_id
from steadfast.patients.models import Patient
from steadfast.records import services
from steadfast.records.models import (
    TRANSFER_DEGRADED,
    Allergy,
    Certainty,
    CodeSystem,
    ConceptUse,
    Immunisation,
    Medication,
    MedicationKind,
    NoKnownAllergies,
    Observation,
    Problem,
    ProblemStatus,
    Severity,
)

router = Router(tags=["Transaction"])

IMPORTABLE = TRANSACTION_TYPES  # a Medication only as what a MedicationRequest refers to
ORDER = {"Patient": 0, "Medication": 2}
RESOLVED = {"inactive", "remission", "resolved"}
ENDED_MEDICATION = {"stopped", "completed"}


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
    location: str | None
    warnings: list[str] = field(default_factory=list)

    def response(self) -> dict:
        response = {"status": self.status, "location": self.location}
        if self.warnings:
            response["outcome"] = {
                "resourceType": "OperationOutcome",
                "issue": [
                    {"severity": "warning", "code": "informational", "diagnostics": w}
                    for w in self.warnings
                ],
            }
        return response


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
@requires("register_patients", "record_consultation")
def transaction_bundle(request):
    """Import a transaction Bundle of Patients and their record, all or nothing.

    Each entry is written by the service for it, which checks the user may: registering a new
    Patient needs register_patients, a MedicationRequest prescribe, any other entry
    record_consultation (and a restricted patient a break-glass). One refusal refuses all."""
    entries = _entries(read_json_body(request))
    importer = Importer(request.user, entries)
    written: dict[int, Written] = {}
    # Patients first; Medications last, once the requests that refer to them are read.
    ordered = sorted(entries, key=lambda e: ORDER.get(e.resource_type, 1))
    with transaction.atomic():
        for entry in ordered:
            try:
                written[entry.number] = importer.write(entry)
            except FHIRError as exc:
                raise FHIRError(
                    exc.status,
                    f"entry {entry.number}: {exc.diagnostics}",
                    exc.code,
                    activity=exc.activity,
                    audited=exc.audited,
                ) from exc
            except NotPermitted as exc:  # 403, audited once the import has rolled back
                raise type(exc)(
                    f"entry {entry.number}: {exc}", activity=exc.activity, patient_id=exc.patient_id
                ) from exc
            except (DuplicateNHSNumber, PossibleDuplicatePatient) as exc:
                raise FHIRError(409, f"entry {entry.number}: {exc}", "duplicate") from exc
            except DomainError as exc:
                raise FHIRError(422, f"entry {entry.number}: {exc}", "business-rule") from exc
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "timestamp": timezone.now().isoformat(),
            "entry": [{"response": written[e.number].response()} for e in entries],
        }
    )


class Importer:
    """Writes a Bundle's entries for one user; remembers the patients each fullUrl names."""

    def __init__(self, user, entries: list[Entry] = ()) -> None:
        self.user = user
        self.patients: dict[str, Patient] = {}
        self.medications = {e.full_url: e.raw for e in entries if e.resource_type == "Medication"}
        self.referenced_medications: set[str] = set()

    def write(self, entry: Entry) -> Written:
        if entry.resource_type == "Patient":
            return self.patient(entry)
        refuse_modifier_extensions(entry.raw)
        if entry.resource_type == "Medication":
            return self.medication_resource(entry)
        refuse_retracted(entry.raw)
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
        nhs_number = conditional_nhs_number(entry.if_none_exist)
        found = None
        if nhs_number is not None:
            found = Patient.objects.filter(
                practice_id=self.user.practice_id, nhs_number=nhs_number
            ).first()
        if found is None:
            # References to the sending system's practitioners mean nothing here.
            resource = entry.model.model_copy(update={"generalPractitioner": None})
            found = register_from_fhir(resource, self.user, entry.raw)
            status = "201 Created"
        else:
            status = "200 OK"
        if entry.full_url:
            self.patients[entry.full_url] = found
        return Written(status, f"Patient/{found.pk}", not_held(entry.raw))

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

    def _made(self, existing, make, entry: Entry, warnings: list[str] = ()) -> Written:
        """The entry the record already holds (200), or the one `make` writes (201); with a
        warning naming what was kept as received but is not part of the record."""
        resource_type = entry.resource_type
        warnings = list(warnings)
        if kept := not_returned(resource_type, entry.raw):
            warnings.append(
                f"Kept as received but not part of the record (not given back): {', '.join(kept)}."
            )
        if existing is not None:
            return Written("200 OK", f"{resource_type}/{existing.pk}", warnings)
        made = make()
        made = made[0] if isinstance(made, list) else made
        return Written("201 Created", f"{resource_type}/{made.pk}", warnings)

    # Clinical entries -----------------------------------------------------------------------

    def condition(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "subject")
        concept, _ = held_concept(
            r.get("code"), CodeSystem.SNOMED, "Condition.code", ("problem", "finding")
        )
        onset = optional_moment(
            r.get("onsetDateTime") or (r.get("onsetPeriod") or {}).get("start"), "onset"
        )
        recorded = optional_moment(r.get("recordedDate"), "recordedDate")
        # Onset and recorded date are optional in FHIR: without either it is dated on arrival.
        occurred = max((d for d in (onset, recorded) if d), default=timezone.now())
        clinical = {code for _, code in codings(r.get("clinicalStatus"))}
        status = ProblemStatus.PAST if clinical & RESOLVED else ProblemStatus.ACTIVE
        onset_day = timezone.localdate(onset) if onset else None
        existing = Problem.objects.filter(patient=who, concept=concept, onset=onset_day).first()
        new = services.NewProblem(concept, onset=onset_day, status=status)
        return self._made(
            existing,
            lambda: services.add_problem(
                who, self.user, new, occurred_at=occurred, retrospective=True, as_received=r
            ),
            entry,
        )

    def observation(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "subject")
        new = new_observation(r)
        when = moment(
            r.get("effectiveDateTime")
            or (r.get("effectivePeriod") or {}).get("start")
            or r.get("issued"),
            "effectiveDateTime",
        )
        existing = Observation.objects.filter(
            patient=who, kind=new.kind, occurred_at=when, derived=False
        ).first()
        return self._made(
            existing,
            lambda: services.record_observation(
                who, self.user, new, occurred_at=when, retrospective=True, as_received=r
            ),
            entry,
        )

    def allergy(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "patient")
        substance, _ = held_concept(
            r.get("code"),
            CodeSystem.SNOMED,
            "AllergyIntolerance.code",
            (ConceptUse.ALLERGEN, ConceptUse.NO_ALLERGY),
        )
        when = optional_moment(r.get("onsetDateTime") or r.get("recordedDate"), "onsetDateTime")
        if substance.use == ConceptUse.NO_ALLERGY:
            return self.no_known_allergy(entry, who, substance, when)
        reactions = r.get("reaction") or []
        manifestations = (reactions[0].get("manifestation") or []) if reactions else []
        reaction, reaction_text, warnings = None, "", []
        if manifestations:
            try:
                reaction, _ = held_concept(
                    manifestations[0], CodeSystem.SNOMED, "manifestation", ("reaction",)
                )
            except FHIRError:
                reaction_text = text_of(manifestations[0])
                warnings.append(
                    f"Reaction {reaction_text!r} is not a code held here: kept as text."
                )
        severity = (reactions[0].get("severity") if reactions else None) or (
            Severity.SEVERE if r.get("criticality") == "high" else Severity.MODERATE
        )
        verified = {code for _, code in codings(r.get("verificationStatus"))}
        certainty = Certainty.CONFIRMED if "confirmed" in verified else Certainty.SUSPECTED
        note = " ".join(n.get("text", "") for n in r.get("note") or [])[:500]
        sent_text = (r.get("code") or {}).get("text")
        existing = next(
            (
                a
                for a in Allergy.objects.filter(patient=who, substance=substance)
                if substance.code not in TRANSFER_DEGRADED
                or ((a.as_received or {}).get("code") or {}).get("text") == sent_text
            ),
            None,
        )
        return self._made(
            existing,
            lambda: services.record_allergy(
                who,
                self.user,
                substance,
                severity=severity,
                certainty=certainty,
                reaction=reaction,
                reaction_text=reaction_text,
                note=note,
                occurred_at=when,
                retrospective=True,
                as_received=r,
            ),
            entry,
            warnings,
        )

    def no_known_allergy(self, entry: Entry, who, concept, when) -> Written:
        """A coded statement such as 409137002 No known drug allergy: not an allergy."""
        existing = NoKnownAllergies.objects.filter(patient=who, concept=concept).first()
        return self._made(
            existing,
            lambda: services.record_no_known_allergies(
                who, self.user, occurred_at=when, concept=concept, as_received=entry.raw
            ),
            entry,
        )

    def medication_resource(self, entry: Entry) -> Written:
        """A Medication is held inside the MedicationRequest that refers to it."""
        if entry.full_url not in self.referenced_medications:
            raise FHIRError(
                422,
                "a Medication is taken only when a MedicationRequest in the Bundle refers"
                " to it by its fullUrl.",
            )
        return Written("200 OK", None, ["Held with the MedicationRequest that refers to it."])

    def _medicine_code(self, r: dict) -> tuple[dict, str]:
        """The medicine's CodeableConcept: sent inline, or the code of the Medication referred
        to (in this Bundle by fullUrl, or contained)."""
        if r.get("medicationCodeableConcept"):
            return r["medicationCodeableConcept"], "medication"
        reference = (r.get("medicationReference") or {}).get("reference") or ""
        if reference.startswith("#"):
            contained = {c.get("id"): c for c in r.get("contained") or []}
            medication = contained.get(reference[1:])
        else:
            medication = self.medications.get(reference)
            self.referenced_medications.add(reference)
        if not medication or medication.get("resourceType") != "Medication":
            raise FHIRError(
                422,
                f"medicationReference {reference!r} is not a Medication in this Bundle or"
                " contained in the request.",
            )
        return medication.get("code") or {}, f"Medication {reference}"

    def medication(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "subject")
        codeable, what = self._medicine_code(r)
        medicine, _ = held_concept(codeable, CodeSystem.DMD, what, ("medicine",))
        when = moment(r.get("authoredOn"), "MedicationRequest.authoredOn")
        course = {code for _, code in codings(r.get("courseOfTherapyType"))}
        repeat = "continuous" in course
        dispense = r.get("dispenseRequest") or {}
        quantity = (dispense.get("quantity") or {}).get("value")
        # History from elsewhere may come without a quantity; one given must be whole.
        if quantity is not None and (
            not isinstance(quantity, int | float) or quantity < 1 or int(quantity) != quantity
        ):
            raise FHIRError(422, "dispenseRequest.quantity must be a whole number of at least 1.")
        dosage = r.get("dosageInstruction") or [{}]
        new = services.NewMedication(
            medicine,
            MedicationKind.REPEAT if repeat else MedicationKind.ACUTE,
            dose=dosage[0].get("text") or "As directed by the sending system",
            quantity=int(quantity) if quantity is not None else None,
            quantity_unit=(dispense.get("quantity") or {}).get("unit") or "tablet",
            issues_allowed=(dispense.get("numberOfRepeatsAllowed") or 0) + 1 if repeat else None,
        )
        existing = Medication.objects.filter(
            patient=who, concept=medicine, occurred_at=when
        ).first()
        received = dict(r)
        if what != "medication":  # keep the Medication's coding as the request's own
            received["medicationCodeableConcept"] = codeable

        def make():
            # A prescription made in the old system is history: its allergy check was done there.
            made = services.prescribe(
                who,
                self.user,
                new,
                allergy_confirmed=True,
                occurred_at=when,
                retrospective=True,
                as_received=received,
            )
            if r.get("status") in ENDED_MEDICATION:
                reason = text_of(r.get("statusReason")) or f"{r['status']} in the sending system"
                made = services.stop_medication(made, self.user, reason)
            return made

        return self._made(existing, make, entry)

    def immunisation(self, entry: Entry) -> Written:
        r = entry.raw
        who = self._subject(entry, "patient")
        vaccine, _ = held_concept(
            r.get("vaccineCode"), CodeSystem.SNOMED, "vaccineCode", ("vaccination",)
        )
        when = moment(r.get("occurrenceDateTime"), "Immunization.occurrenceDateTime")
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
                as_received=r,
            ),
            entry,
        )
