"""Patient: read, search and register, through the same queries and services as the pages."""

from django.utils import timezone
from fhir.resources.R4B.patient import Patient as FHIRPatient
from ninja import Router

from steadfast.audit.record_access import record_search
from steadfast.fhir.access import open_patient_record, requires
from steadfast.fhir.body import full_date, read_resource
from steadfast.fhir.bundles import base_url, searchset
from steadfast.fhir.capabilities import NHS_NUMBER, RESOURCES, body_openapi, search_openapi
from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import fhir_response
from steadfast.fhir.lookups import one_or_404
from steadfast.fhir.search import check_parameters, date_filter, paging, reference_id
from steadfast.patients import queries, services, ukcore
from steadfast.patients.forms import RegistrationForm
from steadfast.patients.models import Patient, RegistrationStatus
from steadfast.practices.queries import practice_gps

router = Router(tags=["Patient"])
ACTIVE_REGISTRATIONS = {RegistrationStatus.REGISTERED, RegistrationStatus.TEMPORARY}
UK_CORE_PATIENT = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
# What of a received Patient is read into the register or kept as sent; the rest is named back.
HELD = {
    "resourceType",
    "id",
    "meta",
    "text",
    "identifier",
    "active",
    "name",
    "telecom",
    "gender",
    "birthDate",
    "deceasedBoolean",
    "address",
    "generalPractitioner",
    "managingOrganization",
    *ukcore.KEPT,
}
# The security label a restricted (sensitive) record carries (HL7 v3 Confidentiality "R").
RESTRICTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
    "code": "R",
    "display": "restricted",
}


def _name(p: Patient) -> dict:
    name = {"use": "official", "family": p.family_name, "given": [p.given_name]}
    if p.title:
        name["prefix"] = [p.title]
    return name


def _security(p: Patient) -> dict:
    return {"security": [RESTRICTED]} if p.is_sensitive else {}


def patient_listing(p: Patient) -> dict:
    """A Patient as search results (and `_include`s) show it: a restricted record only as its
    name, birth date and the restricted label, like the pages' search results."""
    if not p.is_sensitive:
        return patient(p)
    return {
        "resourceType": "Patient",
        "id": str(p.pk),
        "meta": {"lastUpdated": p.updated_at.isoformat(), **_security(p)},
        "name": [_name(p)],
        "birthDate": p.date_of_birth.isoformat(),
    }


def patient(p: Patient) -> dict:
    """The whole Patient, for a reader who has opened the record."""
    kept = p.uk_core or {}
    identifier = {"system": NHS_NUMBER, "value": p.nhs_number}
    if kept.get("nhsNumberExtension"):
        identifier["extension"] = kept["nhsNumberExtension"]
    return {
        "resourceType": "Patient",
        "id": str(p.pk),
        "meta": {
            "lastUpdated": p.updated_at.isoformat(),
            "profile": [UK_CORE_PATIENT],
            **_security(p),
        },
        "extension": kept.get("extension"),
        "identifier": [identifier] if p.nhs_number else None,
        "active": p.registration_status in ACTIVE_REGISTRATIONS,
        "name": [_name(p)],
        "gender": p.sex,
        "birthDate": p.date_of_birth.isoformat(),
        "deceasedBoolean": True if p.registration_status == RegistrationStatus.DECEASED else None,
        "address": [
            {
                "use": "home",
                "line": [x for x in (p.address_line1, p.address_line2) if x],
                "city": p.town,
                "postalCode": p.postcode,
            }
        ],
        "telecom": [
            {"system": "phone", "value": p.phone, "use": "home"} if p.phone else None,
            {"system": "email", "value": p.email, "use": "home"} if p.email else None,
        ],
        "generalPractitioner": [
            {"reference": f"Practitioner/{p.usual_gp_id}"} if p.usual_gp_id else None,
            {"reference": f"Organization/{p.practice_id}"},
        ],
        "managingOrganization": {"reference": f"Organization/{p.practice_id}"},
        "contact": kept.get("contact"),
        "communication": kept.get("communication"),
    }


@router.get("/Patient/{resource_id}", url_name="patient_read")
@requires("view_demographics")
def read_patient(request, resource_id: str):
    found = one_or_404(
        Patient.objects.filter(practice_id=request.user.practice_id), "Patient", resource_id
    )
    open_patient_record(request.user, found, "view_patient")
    return fhir_response(patient(found))


def _nhs_number(request) -> str | None:
    tokens = request.GET.getlist("identifier")
    if len(tokens) > 1:
        raise FHIRError(400, "Give one identifier.")
    if not tokens:
        return None
    system, _, value = tokens[0].rpartition("|")
    if system not in ("", NHS_NUMBER):
        raise FHIRError(400, f"identifier: only {NHS_NUMBER} is searchable.")
    return value


@router.get("/Patient", url_name="patient_search", openapi_extra=search_openapi("Patient"))
@requires("view_demographics")
def search_patients(request):
    check_parameters(request, RESOURCES["Patient"].parameters)
    page = paging(request)
    found = queries.find_patients(
        request.user.practice,
        nhs_number=_nhs_number(request),
        name=request.GET.getlist("name"),
        family=request.GET.getlist("family"),
        given=request.GET.getlist("given"),
        postcode=request.GET.getlist("address-postalcode"),
        born=date_filter(request, "birthdate", "date_of_birth", dates_only=True),
    )
    total = found.count()
    rows = list(found[page.offset : page.offset + page.count])
    record_search(request.user, "search_patients", [p.pk for p in rows], " (API)")
    return fhir_response(searchset(request, total, [patient_listing(p) for p in rows], page))


def registration_data(resource: FHIRPatient) -> dict:
    """The registration form's fields from a FHIR Patient, so the same validation applies."""
    names = resource.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    addresses = resource.address or []
    address = next((a for a in addresses if a.use == "home"), addresses[0] if addresses else None)
    # A FHIR array may hold nulls (an element with only an extension); they are not text.
    lines = [x for x in address.line or [] if x] if address else []
    telecom = resource.telecom or []
    nhs = [i.value for i in resource.identifier or [] if i.system == NHS_NUMBER]
    gps = [
        reference_id(r.reference, "Practitioner")
        for r in resource.generalPractitioner or []
        if r.reference and "Practitioner/" in r.reference
    ]
    return {
        "nhs_number": nhs[0] if nhs else "",
        "title": next((p for p in name.prefix or [] if p), "") if name else "",
        "given_name": " ".join(g for g in name.given or [] if g) if name else "",
        "family_name": (name.family or "") if name else "",
        "date_of_birth": _birth_date(resource),
        "sex": resource.gender or "",
        "address_line1": lines[0] if lines else "",
        "address_line2": ", ".join(lines[1:]),
        "town": (address.city or "") if address else "",
        "postcode": (address.postalCode or "") if address else "",
        "phone": next((t.value for t in telecom if t.system == "phone"), "") or "",
        "email": next((t.value for t in telecom if t.system == "email"), "") or "",
        "usual_gp": gps[0] if gps else "",
    }


def _birth_date(resource: FHIRPatient) -> str:
    born = full_date(
        resource.birthDate,
        "Patient.birthDate",
        "registering a patient needs the full date of birth (YYYY-MM-DD)",
    )
    return born.isoformat() if born else ""


def conditional_nhs_number(if_none_exist: str) -> str | None:
    if not if_none_exist:
        return None
    name, _, token = if_none_exist.partition("=")
    system, _, value = token.rpartition("|")
    if name != "identifier" or system != NHS_NUMBER or not value:
        raise FHIRError(422, f"ifNoneExist must be identifier={NHS_NUMBER}|<NHS number>.")
    return value


def not_held(raw: dict) -> list[str]:
    """Warnings naming what a received Patient carries that the register does not hold."""
    dropped = sorted(k for k in raw if k not in HELD)
    names = raw.get("name") or []
    warnings = [f"Not held: {', '.join(dropped)}."] if dropped else []
    if len(names) > 1:
        warnings.append("Only the official name is held; other names were not kept.")
    return warnings


def register_from_fhir(resource: FHIRPatient, user, raw: dict | None = None) -> Patient:
    """Register the patient a FHIR Patient describes, through the registration form's checks;
    its UK Core extensions, contacts and languages are kept as sent."""
    practice = user.practice
    form = RegistrationForm(registration_data(resource), gps=practice_gps(practice))
    if not form.is_valid():
        problems = [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()]
        raise FHIRError(422, "; ".join(problems), "invalid")
    details = form.patient_details()
    details["registered_on"] = timezone.localdate()
    details["uk_core"] = ukcore.received(raw or {}, NHS_NUMBER)
    return services.register_patient(practice, details, user)


@router.post("/Patient", url_name="patient_create", openapi_extra=body_openapi("Patient"))
@requires("register_patients")
def create_patient(request):
    raw, resource = read_resource(request, FHIRPatient)
    nhs_number = conditional_nhs_number(request.headers.get("If-None-Exist", ""))
    if nhs_number is not None:  # conditional create: the patient registered already, if any
        found = Patient.objects.filter(
            practice_id=request.user.practice_id, nhs_number=nhs_number
        ).first()
        if found is not None:
            open_patient_record(request.user, found, "view_patient")
            return fhir_response(patient(found), status=200)
    created = register_from_fhir(resource, request.user, raw)
    body = patient(created)
    if "return=OperationOutcome" in request.headers.get("Prefer", ""):
        issues = [
            {"severity": "warning", "code": "informational", "diagnostics": w}
            for w in not_held(raw)
        ] or [{"severity": "information", "code": "informational", "diagnostics": "Created."}]
        body = {"resourceType": "OperationOutcome", "issue": issues}
    return fhir_response(
        body, status=201, headers={"Location": f"{base_url(request)}/Patient/{created.pk}"}
    )
