"""Post NHS England's UK Core example resources to the FHIR API and say what goes in.

    .venv/bin/python docs/ukcore_examples.py PATH/TO/FHIR-R4-UKCORE-STAGING-MAIN/examples

Reads the examples (XML needs `pip install lxml`; JSON as is) of the resource types the API
serves, in a throwaway SQLite database under a temporary folder, as a GP with a bearer token
(Patients, and the synthetic patient below, as the practice's receptionist):
- Patient: POST /fhir/Patient.
- Condition, AllergyIntolerance, Observation, Immunization, MedicationRequest: a transaction
  Bundle with one synthetic patient (999-range NHS number), the example's patient reference
  pointed at it, and any Medication the request refers to taken from the same folder.
- Every other type we serve: POST /fhir/<type> (read-only types say so).
Prints one line per example (in or refused, and why) and a count by type. Nothing is kept.
"""

import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLINICAL = ("Condition", "AllergyIntolerance", "Observation", "Immunization", "MedicationRequest")
SERVED = (
    "Patient",
    *CLINICAL,
    "MedicationStatement",
    "Encounter",
    "DocumentReference",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Location",
    "Schedule",
    "Slot",
    "Appointment",
    "Medication",
)
NHS = "https://fhir.nhs.uk/Id/nhs-number"
PATIENT_URL = "urn:uuid:2b7c9a3e-1f4d-4c6b-8a2e-9d0f3b5c7e19"
SYNTHETIC_PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": NHS, "value": "9997579100"}],
    "name": [{"use": "official", "family": "Gibbons", "given": ["Reece"]}],
    "gender": "male",
    "birthDate": "1970-09-11",
    "address": [
        {"use": "home", "line": ["61 Ford Street"], "city": "Leeds", "postalCode": "LS1 5HD"}
    ],
}


def load(path: Path) -> dict:
    if path.suffix == ".json":
        return json.loads(path.read_text())
    from fhir.resources.R4B import get_fhir_model_class

    text = path.read_bytes()
    resource_type = ET.fromstring(text).tag.rpartition("}")[2]
    model = get_fhir_model_class(resource_type).model_validate_xml(text)
    return json.loads(model.model_dump_json())


def _strip_comments(value):
    """Drop the XML comments the converter carries over (and what holds only a comment)."""
    if isinstance(value, dict):
        kept = {k: _strip_comments(v) for k, v in value.items() if k != "fhir_comments"}
        return {k: v for k, v in kept.items() if not (k.startswith("_") and v == {})}
    if isinstance(value, list):
        return [_strip_comments(v) for v in value]
    return value


def bundle_for(resource: dict, medications: dict[str, dict]) -> dict:
    resource = dict(resource)
    resource.pop("id", None)
    for field in ("subject", "patient"):
        if field in resource:
            resource[field] = {"reference": PATIENT_URL}
    entries = [
        {
            "fullUrl": PATIENT_URL,
            "resource": SYNTHETIC_PATIENT,
            "request": {
                "method": "POST",
                "url": "Patient",
                "ifNoneExist": f"identifier={NHS}|9997579100",
            },
        },
        {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}},
    ]
    reference = (resource.get("medicationReference") or {}).get("reference", "")
    if reference.startswith("Medication/") and reference[11:] in medications:
        url = f"urn:uuid:00000000-0000-4000-8000-{len(entries):012d}"
        resource["medicationReference"] = {"reference": url}
        medication = dict(medications[reference[11:]])
        medication.pop("id", None)
        entries.append(
            {
                "fullUrl": url,
                "resource": medication,
                "request": {"method": "POST", "url": "Medication"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def main(folder: Path) -> None:
    os.environ.setdefault("STEADFAST_VAR_DIR", tempfile.mkdtemp(prefix="ukcore-examples-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "steadfast.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from steadfast.fhir.auth import make_token
    from tests.factories import GPFactory, UserFactory

    call_command("migrate", verbosity=0)
    gp = GPFactory()
    headers = {"Authorization": f"Bearer {make_token(gp)}"}
    # Registering is reception's job: Patients are posted as the practice's receptionist.
    reception = {"Authorization": f"Bearer {make_token(UserFactory(practice=gp.practice))}"}
    client = Client()
    # The synthetic patient every clinical Bundle names, registered by reception first (the GP's
    # Bundles then find them by NHS number: a GP may not register).
    only_patient = bundle_for({"resourceType": "Basic"}, {})
    only_patient["entry"] = only_patient["entry"][:1]
    client.post(
        "/fhir/", json.dumps(only_patient), content_type="application/fhir+json", headers=reception
    )

    examples = {}
    for path in sorted(folder.glob("UKCore-*")):
        if path.suffix in (".xml", ".json"):
            resource = _strip_comments(load(path))
            if resource["resourceType"] in SERVED:
                examples[path.stem] = resource
    medications = {r["id"]: r for r in examples.values() if r["resourceType"] == "Medication"}
    went_in, refused = Counter(), Counter()
    for name, resource in examples.items():
        resource_type = resource["resourceType"]
        if resource_type in CLINICAL:
            body, path = bundle_for(resource, medications), "/fhir/"
        else:
            body, path = {k: v for k, v in resource.items() if k != "id"}, f"/fhir/{resource_type}"
        who = reception if resource_type == "Patient" else headers
        response = client.post(
            path, json.dumps(body), content_type="application/fhir+json", headers=who
        )
        try:
            answer = json.loads(response.content or b"{}")
        except ValueError:
            answer = {"issue": [{"diagnostics": "(not a FHIR answer)"}]}
        if response.status_code in (200, 201):
            went_in[resource_type] += 1
            warnings = [
                i["diagnostics"]
                for e in answer.get("entry", [])[1:2]
                for i in (e["response"].get("outcome") or {}).get("issue", [])
            ]
            print(f"IN      {name}" + (f"  [{'; '.join(warnings)}]" if warnings else ""))
        else:
            refused[resource_type] += 1
            why = (answer.get("issue") or [{}])[0].get("diagnostics", "")
            print(f"REFUSED {name}: {response.status_code} {why[:220]}")
    print()
    for resource_type in SERVED:
        total = went_in[resource_type] + refused[resource_type]
        if total:
            print(f"{resource_type}: {went_in[resource_type]} of {total} in")
    print(f"ukcore_examples: in={sum(went_in.values())} of {len(examples)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
