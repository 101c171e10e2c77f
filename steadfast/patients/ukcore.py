"""A patient's UK Core details as received (ethnic category, contact preference, residential and
death notification status, NHS number verification, next of kin, languages and interpreter),
and what of them the patient page shows.

They are kept as the sending system wrote them, in `Patient.uk_core`, and given back as sent.
"""

from dataclasses import dataclass, field

UKCORE = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-"
ETHNIC_CATEGORY = UKCORE + "EthnicCategory"
CONTACT_PREFERENCE = UKCORE + "ContactPreference"
RESIDENTIAL_STATUS = UKCORE + "ResidentialStatus"
DEATH_NOTIFICATION_STATUS = UKCORE + "DeathNotificationStatus"
NHS_NUMBER_VERIFICATION_STATUS = UKCORE + "NHSNumberVerificationStatus"
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
# Patient elements kept as sent (the rest of a Patient is read into the register's own fields).
KEPT = ("extension", "contact", "communication")


def received(resource: dict, nhs_number_system: str) -> dict:
    """The UK Core elements of a received Patient to keep: top-level extensions, the NHS number
    identifier's extensions (verification status), contacts and communication."""
    kept = {key: resource[key] for key in KEPT if resource.get(key)}
    for identifier in resource.get("identifier") or []:
        if identifier.get("system") == nhs_number_system and identifier.get("extension"):
            kept["nhsNumberExtension"] = identifier["extension"]
    return kept


def _display(codeable: dict | None) -> str:
    codeable = codeable or {}
    codings = codeable.get("coding") or []
    return str(codeable.get("text") or next((c["display"] for c in codings if "display" in c), ""))


def _extension(extensions: list, url: str) -> dict | None:
    return next((e for e in extensions or [] if e.get("url") == url), None)


def _sub(extension: dict | None, url: str) -> dict | None:
    return _extension((extension or {}).get("extension"), url)


@dataclass
class Contact:
    name: str
    relationship: str
    phone: str


@dataclass
class UKCoreDetails:
    """What the patient page shows; an empty string for what was not sent."""

    ethnic_category: str = ""
    residential_status: str = ""
    death_notification_status: str = ""
    nhs_number_verification: str = ""
    contact_preference: str = ""
    interpreter_required: bool | None = None
    languages: list[str] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)


def details(uk_core: dict) -> UKCoreDetails:
    extensions = uk_core.get("extension") or []
    shown = UKCoreDetails()
    shown.ethnic_category = _display(
        (_extension(extensions, ETHNIC_CATEGORY) or {}).get("valueCodeableConcept")
    )
    shown.residential_status = _display(
        (_extension(extensions, RESIDENTIAL_STATUS) or {}).get("valueCodeableConcept")
    )
    death = _sub(_extension(extensions, DEATH_NOTIFICATION_STATUS), "deathNotificationStatus")
    shown.death_notification_status = _display((death or {}).get("valueCodeableConcept"))
    verification = _extension(uk_core.get("nhsNumberExtension"), NHS_NUMBER_VERIFICATION_STATUS)
    shown.nhs_number_verification = _display((verification or {}).get("valueCodeableConcept"))
    preference = _extension(extensions, CONTACT_PREFERENCE)
    shown.contact_preference = ", ".join(
        text
        for part in ("PreferredContactMethod", "PreferredWrittenCommunicationFormat")
        if (text := _display((_sub(preference, part) or {}).get("valueCodeableConcept")))
    )
    interpreter = _extension(extensions, INTERPRETER_REQUIRED)
    if interpreter is not None:
        shown.interpreter_required = bool(interpreter.get("valueBoolean"))
    for language in uk_core.get("communication") or []:
        interpreter = _extension(language.get("extension"), INTERPRETER_REQUIRED)
        if interpreter is not None and interpreter.get("valueBoolean"):
            shown.interpreter_required = True
        if text := _display(language.get("language")):
            shown.languages.append(text + (" (preferred)" if language.get("preferred") else ""))
    for contact in uk_core.get("contact") or []:
        name = contact.get("name") or {}
        full = name.get("text") or " ".join([*(name.get("given") or []), name.get("family", "")])
        phones = [t.get("value", "") for t in contact.get("telecom") or [] if t.get("value")]
        relationships = [_display(r) for r in contact.get("relationship") or []]
        shown.contacts.append(
            Contact(full.strip(), ", ".join(r for r in relationships if r), ", ".join(phones))
        )
    return shown
