"""Which statuses of a received resource may become an entry of the record.

An entry the sender marked as a mistake (entered-in-error), disproved (refuted), never done or
never started must not become an active allergy, problem, measurement, vaccination or medicine.
Steadfast holds no retracted entries, so such a resource is refused with a message that says
why; the sender leaves it out (it retracts nothing held here).
"""

from steadfast.fhir.errors import FHIRError

# resource type: (element, {refused code: why}) for the status elements that can retract.
REFUSED: dict[str, list[tuple[str, dict[str, str]]]] = {
    "AllergyIntolerance": [
        (
            "verificationStatus",
            {
                "entered-in-error": "was entered in error",
                "refuted": "was refuted (the patient does not have it)",
            },
        ),
        (
            "clinicalStatus",
            {
                "inactive": "is no longer active; Steadfast holds current allergies only",
                "resolved": "has resolved; Steadfast holds current allergies only",
            },
        ),
    ],
    "Condition": [
        (
            "verificationStatus",
            {
                "entered-in-error": "was entered in error",
                "refuted": "was refuted (the patient does not have it)",
            },
        ),
    ],
    "Observation": [
        (
            "status",
            {
                "entered-in-error": "was entered in error",
                "cancelled": "was cancelled (nothing was measured)",
            },
        ),
    ],
    "Immunization": [
        (
            "status",
            {
                "entered-in-error": "was entered in error",
                "not-done": "was not given",
            },
        ),
    ],
    "MedicationRequest": [
        (
            "status",
            {
                "entered-in-error": "was entered in error",
                "cancelled": "was cancelled before it was taken",
                "draft": "is a draft, not a prescription",
            },
        ),
        (
            "intent",
            {
                "proposal": "is a proposal, not a prescription",
                "option": "is one option of a choice, not a prescription",
            },
        ),
    ],
}


def _codes(value) -> set[str]:
    """The codes of a plain `code` element or of a CodeableConcept."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {c.get("code") for c in value.get("coding") or [] if isinstance(c, dict)}
    return set()


def refuse_retracted(resource: dict) -> None:
    """Raise a 422 (business-rule) when the resource's status says it must not be held."""
    resource_type = resource.get("resourceType", "")
    for element, refused in REFUSED.get(resource_type, []):
        for code in sorted(_codes(resource.get(element)) & set(refused)):
            raise FHIRError(
                422,
                f"{resource_type} with {element} {code!r} is refused: it {refused[code]}, so it"
                " must not become an entry of the record. Leave it out of the Bundle.",
                "business-rule",
            )
