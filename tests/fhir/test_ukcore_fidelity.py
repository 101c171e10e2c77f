"""Taking in what a UK Core sender sends, and giving it back as sent: each test resource follows
one UK Core example (tests/fhir/ukcore.py) and states what becomes of it."""

from decimal import Decimal

import pytest

from steadfast.records import services
from steadfast.records.errors import AllergyWarning, InvalidEntry
from steadfast.records.models import (
    Allergy,
    Immunisation,
    Medication,
    NoKnownAllergies,
    Observation,
    Problem,
)
from steadfast.records.queries import banner
from tests.fhir.helpers import FHIRClient
from tests.fhir.ukcore import (
    ALLERGY_AMOXICILLIN,
    BLOOD_PRESSURE,
    BMI_AS_RECORDED,
    CONDITION_UNDATED_WITH_EXTENSION,
    HEAD_CIRCUMFERENCE,
    HEIGHT_IN_METRES,
    IMMUNIZATION_DMD_PRODUCT,
    MEDICATION_AMP,
    MEDICATION_REQUEST_BY_REFERENCE,
    MEDICATION_REQUEST_CONTAINED,
    NO_KNOWN_DRUG_ALLERGY,
    OBSERVATION_HEART_RATE,
    OXYGEN_SATURATION,
    RESPIRATORY_RATE,
    TEMPERATURE_IN_FAHRENHEIT,
    TRANSFER_DEGRADED_DRUG_ALLERGY,
    TRANSFER_DEGRADED_NON_DRUG_ALLERGY,
    transaction,
)
from tests.records.entries import concept


@pytest.fixture
def importer(client, gp, receptionist):
    """Reception registers the patient (a GP may not: register_patients); the GP's Bundles
    then find them by NHS number and bring their record."""
    FHIRClient(client, receptionist).post("", transaction())
    return FHIRClient(client, gp)


def _import(importer, *resources) -> list[dict]:
    """POST the Bundle; the response of each entry (the patient first)."""
    response = importer.post("", transaction(*resources))
    assert response.status_code == 200, response.content[:600]
    return [e["response"] for e in response.fhir["entry"]]


def _round_trip(importer, resource: dict) -> dict:
    """POST the resource in a Bundle, then GET it back from where the response says it is."""
    location = _import(importer, resource)[1]["location"]
    read = importer.get(location)
    assert read.status_code == 200
    return read.fhir


# --- Observations: several codings, UCUM units, the measurements a GP record shows -----------


@pytest.mark.parametrize(
    ("resource", "kind", "value", "unit"),
    [
        (OBSERVATION_HEART_RATE, "pulse", Decimal(72), "/min"),
        (HEIGHT_IN_METRES, "height", Decimal(164), "cm"),
        (TEMPERATURE_IN_FAHRENHEIT, "temperature", Decimal(37), "°C"),
        (OXYGEN_SATURATION, "spo2", Decimal(96), "%"),
        (RESPIRATORY_RATE, "resp_rate", Decimal(21), "/min"),
        (HEAD_CIRCUMFERENCE, "head_circ", Decimal(59), "cm"),
        (BMI_AS_RECORDED, "bmi", Decimal(46), "kg/m²"),
    ],
    ids=["heart-rate-unknown-snomed", "height-m", "temp-degF", "spo2", "resp-rate", "head", "bmi"],
)
def test_vital_sign_is_held_in_our_unit_and_returns_every_coding(
    importer, resource, kind, value, unit
):
    back = _round_trip(importer, resource)
    held = Observation.objects.get(kind=kind)
    assert (held.value, held.unit, held.derived) == (value, unit, False)
    assert back["code"] == resource["code"]  # SNOMED CT and LOINC, as sent
    assert back["valueQuantity"]["value"] == float(value) or back["valueQuantity"]["value"] == int(
        value
    )


def test_blood_pressure_components_return_their_codings_as_sent(importer):
    back = _round_trip(importer, BLOOD_PRESSURE)
    assert back["code"] == BLOOD_PRESSURE["code"]
    assert [c["code"] for c in back["component"]] == [
        c["code"] for c in BLOOD_PRESSURE["component"]
    ]
    bp = Observation.objects.get(kind="bp")
    assert (bp.value, bp.value2) == (142, 94)


# --- Conditions ------------------------------------------------------------------------------


def test_condition_without_onset_or_recorded_date_goes_in_and_keeps_its_extension(importer):
    back = _round_trip(importer, CONDITION_UNDATED_WITH_EXTENSION)
    problem = Problem.objects.get()
    assert (problem.concept.code, problem.onset) == ("195967001", None)
    assert back["extension"] == CONDITION_UNDATED_WITH_EXTENSION["extension"]
    assert back["code"] == CONDITION_UNDATED_WITH_EXTENSION["code"]  # ICD-10 coding kept too
    assert "onsetDateTime" not in back


# --- Allergies -------------------------------------------------------------------------------


def test_unknown_reaction_is_kept_as_text_with_a_warning(importer):
    responses = _import(importer, ALLERGY_AMOXICILLIN)
    warning = responses[1]["outcome"]["issue"][0]
    assert warning["severity"] == "warning" and "Urticarial rash" in warning["diagnostics"]
    allergy = Allergy.objects.get()
    assert (allergy.substance.code, allergy.reaction, allergy.reaction_text) == (
        "372687004",
        None,
        "Urticarial rash",
    )
    back = importer.get(responses[1]["location"]).fhir
    assert back["reaction"] == ALLERGY_AMOXICILLIN["reaction"]


def test_no_known_drug_allergy_is_a_statement_not_an_allergy(importer, gp):
    back = _round_trip(importer, NO_KNOWN_DRUG_ALLERGY)
    assert back["code"] == NO_KNOWN_DRUG_ALLERGY["code"]
    assert not Allergy.objects.exists()
    statement = NoKnownAllergies.objects.get()
    assert statement.concept.code == "409137002"
    shown = banner(statement.patient)
    assert (shown.allergies, shown.no_known_allergies.label) == ([], "No known drug allergy")


def test_transfer_degraded_drug_allergy_keeps_its_text_and_warns_on_every_prescription(
    importer, gp
):
    back = _round_trip(importer, TRANSFER_DEGRADED_DRUG_ALLERGY)
    assert back["code"] == TRANSFER_DEGRADED_DRUG_ALLERGY["code"]
    allergy = Allergy.objects.get()
    assert allergy.description == "Transfer-degraded drug allergy: Amoxicillin 250mg capsules"
    with pytest.raises(AllergyWarning, match="Amoxicillin 250mg capsules"):
        services.prescribe(
            allergy.patient,
            gp,
            services.NewMedication(concept("319283006"), "acute", "One daily", 28),
        )


def test_transfer_degraded_non_drug_allergy_is_held_beside_a_drug_one(importer):
    _import(importer, TRANSFER_DEGRADED_DRUG_ALLERGY, TRANSFER_DEGRADED_NON_DRUG_ALLERGY)
    assert sorted(a.description for a in Allergy.objects.all()) == [
        "Transfer-degraded drug allergy: Amoxicillin 250mg capsules",
        "Transfer-degraded non-drug allergy: Latex",
    ]


# --- Immunisations ---------------------------------------------------------------------------


def test_vaccine_as_a_dmd_product_without_batch_goes_in_as_history(importer):
    back = _round_trip(importer, IMMUNIZATION_DMD_PRODUCT)
    given = Immunisation.objects.get()
    assert (given.vaccine.code, given.batch, given.retrospective) == ("86198006", "", True)
    assert back["vaccineCode"] == IMMUNIZATION_DMD_PRODUCT["vaccineCode"]
    assert "lotNumber" not in back


def test_vaccination_given_here_still_needs_its_batch(gp, patient):
    with pytest.raises(InvalidEntry, match="batch"):
        services.record_immunisation(patient, gp, concept("86198006"), batch="")


# --- Medicines -------------------------------------------------------------------------------


def test_medication_reference_to_an_amp_in_the_bundle_is_held_as_its_vmp(importer):
    responses = _import(importer, MEDICATION_REQUEST_BY_REFERENCE, MEDICATION_AMP)
    assert responses[2]["status"] == "200 OK" and "location" not in responses[2]
    medicine = Medication.objects.get()
    assert (medicine.concept.code, medicine.quantity) == ("323510009", None)
    assert medicine.stopped_at is not None  # sent as completed: not a current medicine
    back = importer.get(responses[1]["location"]).fhir
    assert back["medicationCodeableConcept"] == MEDICATION_AMP["code"]
    assert back["status"] == "stopped"


def test_contained_medication_with_the_vmps_current_id_is_held_as_the_shipped_vmp(importer):
    back = _round_trip(importer, MEDICATION_REQUEST_CONTAINED)
    medicine = Medication.objects.get()
    assert (medicine.concept.code, medicine.quantity, medicine.is_current) == (
        "323510009",
        21,
        True,
    )
    assert back["medicationCodeableConcept"]["coding"][0]["code"] == "39732411000001106"


def test_a_medication_no_request_refers_to_is_refused(importer):
    response = importer.post("", transaction(MEDICATION_AMP))
    assert response.status_code == 422


def test_prescription_made_here_still_needs_a_quantity(gp, patient):
    with pytest.raises(InvalidEntry, match="quantity"):
        services.prescribe(
            patient, gp, services.NewMedication(concept("319283006"), "acute", "One daily", None)
        )
