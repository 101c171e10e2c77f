"""Test resources of our own, written from the UK Core profiles and NHS England's UK Core example
resources (FHIR-R4-UKCORE-STAGING-MAIN, examples/), with synthetic people only.

Codes are the ones the examples carry (SNOMED CT, LOINC, dm+d); the patient is a Faker en_GB
name with an NHS number from the 999 test range. Each resource names the example it follows.
"""

import copy

NHS = "https://fhir.nhs.uk/Id/nhs-number"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
DMD = "https://dmd.nhs.uk"
NHS_NUMBER = "9999496326"
PATIENT_URL = "urn:uuid:0f6c3f5e-5b1c-4b8e-9d0a-6a1f3c2e7d41"
SUBJECT = {"reference": PATIENT_URL}

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def coded(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


PATIENT = {
    "resourceType": "Patient",
    "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
    "identifier": [{"system": NHS, "value": NHS_NUMBER}],
    "name": [{"use": "official", "family": "Fitzgerald", "given": ["Amelia"], "prefix": ["Mrs"]}],
    "gender": "female",
    "birthDate": "1968-03-14",
    "address": [
        {"use": "home", "line": ["15 Turner Loop"], "city": "London", "postalCode": "E3 4NL"}
    ],
}

# UKCore-AllergyIntolerance-Amoxicillin-Example: amoxicillin, urticarial rash, mild.
ALLERGY_AMOXICILLIN = {
    "resourceType": "AllergyIntolerance",
    "clinicalStatus": coded(ALLERGY_CLINICAL, "active", "Active"),
    "verificationStatus": coded(ALLERGY_VERIFICATION, "confirmed", "Confirmed"),
    "code": coded(SNOMED, "372687004", "Amoxicillin"),
    "patient": SUBJECT,
    "recordedDate": "2019-12-10T13:00:00+00:00",
    "reaction": [
        {
            "manifestation": [coded(SNOMED, "247472004", "Urticarial rash")],
            "severity": "mild",
        }
    ],
}

# UKCore-Condition-BleedingFromEar-Example, as a problem from the shipped subset.
CONDITION_HYPERTENSION = {
    "resourceType": "Condition",
    "clinicalStatus": coded(CONDITION_CLINICAL, "active", "Active"),
    "verificationStatus": coded(CONDITION_VERIFICATION, "confirmed", "Confirmed"),
    "category": [
        coded(
            "http://terminology.hl7.org/CodeSystem/condition-category",
            "problem-list-item",
            "Problem List Item",
        )
    ],
    "code": coded(SNOMED, "59621000", "Essential hypertension"),
    "subject": SUBJECT,
    "onsetDateTime": "2018-06-01",
    "recordedDate": "2018-06-04",
}

# UKCore-Observation-VitalSigns-HeartRate-Example: SNOMED 444981005 (not in the shipped subset)
# beside LOINC 8867-4 (which is held, as a pulse).
OBSERVATION_HEART_RATE = {
    "resourceType": "Observation",
    "status": "final",
    "category": [coded(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
    "code": {
        "coding": [
            {"system": SNOMED, "code": "444981005", "display": "Resting heart rate"},
            {"system": LOINC, "code": "8867-4", "display": "Heart rate"},
        ]
    },
    "subject": SUBJECT,
    "effectiveDateTime": "2021-02-24T09:30:00+00:00",
    "valueQuantity": {"value": 72, "unit": "beats/minute", "system": UCUM, "code": "/min"},
}

# UKCore-Immunization-InfluenzaVaccine-Example, coded as the vaccination procedure.
IMMUNIZATION_INFLUENZA = {
    "resourceType": "Immunization",
    "status": "completed",
    "vaccineCode": coded(SNOMED, "86198006", "Influenza vaccination"),
    "patient": SUBJECT,
    "occurrenceDateTime": "2020-10-12",
    "primarySource": False,
    "lotNumber": "FLU20-118",
}

# UKCore-MedicationRequest-Amoxicillin-Example: an acute course of amoxicillin 500mg capsules.
MEDICATION_REQUEST_AMOXICILLIN = {
    "resourceType": "MedicationRequest",
    "status": "active",
    "intent": "order",
    "medicationCodeableConcept": coded(DMD, "323510009", "Amoxicillin 500mg capsules"),
    "subject": SUBJECT,
    "authoredOn": "2023-06-15T15:00:00+00:00",
    "courseOfTherapyType": coded(
        "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
        "acute",
        "Short course (acute) therapy",
    ),
    "dosageInstruction": [{"text": "One capsule three times a day"}],
    "dispenseRequest": {"quantity": {"value": 21, "unit": "capsule"}},
}


CONDITION_EPISODE = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ConditionEpisode"
EPISODICITY = "https://fhir.hl7.org.uk/CodeSystem/UKCore-ConditionEpisodicity"
# Extension-UKCore-ConditionEpisode-Example: a condition with neither onset nor recorded date.
CONDITION_UNDATED_WITH_EXTENSION = {
    "resourceType": "Condition",
    "extension": [
        {"url": CONDITION_EPISODE, "valueCodeableConcept": coded(EPISODICITY, "new", "New")}
    ],
    "clinicalStatus": coded(CONDITION_CLINICAL, "active", "Active"),
    "code": {
        "coding": [
            {"system": SNOMED, "code": "195967001", "display": "Asthma"},
            {"system": "http://hl7.org/fhir/sid/icd-10", "code": "J45.9", "display": "Asthma"},
        ],
        "text": "Asthma",
    },
    "subject": SUBJECT,
}


def vital_sign(snomed: tuple[str, str], loinc: tuple[str, str], value, unit: str, code: str):
    """A UK Core vital sign: SNOMED CT and LOINC codings, a UCUM quantity."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [coded(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
        "code": {
            "coding": [
                {"system": SNOMED, "code": snomed[0], "display": snomed[1]},
                {"system": LOINC, "code": loinc[0], "display": loinc[1]},
            ]
        },
        "subject": SUBJECT,
        "effectiveDateTime": "2023-08-10",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": code},
    }


# UKCore-Observation-VitalSigns-*-Example: the measurements and units as the examples send them.
HEIGHT_IN_METRES = vital_sign(
    ("50373000", "Body height measure"), ("8302-2", "Body height"), 1.64, "meter", "m"
)
OXYGEN_SATURATION = vital_sign(
    ("431314004", "Peripheral oxygen saturation"),
    ("2708-6", "Oxygen saturation in Arterial blood"),
    96,
    "percent",
    "%",
)
RESPIRATORY_RATE = vital_sign(
    ("86290005", "Respiratory rate"), ("9279-1", "Respiratory Rate"), 21, "per minute", "/min"
)
HEAD_CIRCUMFERENCE = vital_sign(
    ("363812007", "Head circumference"),
    ("9843-4", "Head Occipital-frontal circumference"),
    59,
    "centimeter",
    "cm",
)
BMI_AS_RECORDED = vital_sign(
    ("60621009", "Body mass index"),
    ("39156-5", "Body mass index (BMI) [Ratio]"),
    46,
    "kilogram / (meter ^ 2)",
    "kg/m2",
)
TEMPERATURE_IN_FAHRENHEIT = vital_sign(
    ("276885007", "Core body temperature"), ("8310-5", "Body temperature"), 98.6, "degF", "[degF]"
)
# UKCore-Observation-VitalSigns-BloodPressure-Example: SNOMED and LOINC on panel and components.
BLOOD_PRESSURE = {
    **vital_sign(
        ("75367002", "Blood pressure"),
        ("85354-9", "Blood pressure panel with all children optional"),
        0,
        "",
        "",
    ),
    "component": [
        {
            "code": {
                "coding": [
                    {"system": SNOMED, "code": "72313002", "display": "Systolic arterial pressure"},
                    {"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"},
                ],
                "text": "Systolic blood pressure",
            },
            "valueQuantity": {"value": 142, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        },
        {
            "code": {
                "coding": [
                    {
                        "system": SNOMED,
                        "code": "1091811000000102",
                        "display": "Diastolic arterial pressure",
                    },
                    {"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"},
                ],
                "text": "Diastolic blood pressure",
            },
            "valueQuantity": {"value": 94, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        },
    ],
}
del BLOOD_PRESSURE["valueQuantity"]

# UKCore-AllergyIntolerance-Sn-NegHandlNoKnownAllergies-Example.
NO_KNOWN_DRUG_ALLERGY = {
    "resourceType": "AllergyIntolerance",
    "clinicalStatus": coded(ALLERGY_CLINICAL, "active", "Active"),
    "verificationStatus": coded(ALLERGY_VERIFICATION, "confirmed", "Confirmed"),
    "code": coded(SNOMED, "409137002", "No known drug allergy (situation)"),
    "patient": SUBJECT,
    "recordedDate": "2022-04-01",
}
# UKCore-AllergyIntolerance-Sn-TransferDegradedDrugAllergy-Example.
TRANSFER_DEGRADED_DRUG_ALLERGY = {
    **NO_KNOWN_DRUG_ALLERGY,
    "code": {
        "coding": [
            {
                "system": SNOMED,
                "code": "196461000000101",
                "display": "Transfer-degraded drug allergy",
            }
        ],
        "text": "Amoxicillin 250mg capsules",
    },
}
# UKCore-AllergyIntolerance-Sn-NonDrugAllergy-Example.
TRANSFER_DEGRADED_NON_DRUG_ALLERGY = {
    **NO_KNOWN_DRUG_ALLERGY,
    "code": {
        "coding": [
            {
                "system": SNOMED,
                "code": "196471000000108",
                "display": "Transfer-degraded non-drug allergy (record artifact)",
            }
        ],
        "text": "Latex",
    },
}

# UKCore-Immunization-InfluenzaVaccine-Example: the vaccine as a dm+d product (an AMP), no batch.
IMMUNIZATION_DMD_PRODUCT = {
    "resourceType": "Immunization",
    "status": "completed",
    "vaccineCode": coded(
        DMD,
        "11278411000001109",
        "Influenza vaccine (split virion, inactivated) suspension for injection 0.5ml pre-filled"
        " syringes (Pfizer Ltd)",
    ),
    "patient": SUBJECT,
    "occurrenceDateTime": "2013-01-10",
}

MEDICATION_URL = "urn:uuid:5d0f5a86-6a8f-4a0e-9a59-0d5e8a1f9c22"
# UKCore-MedicationDispense-Amoxicillin-Example's AMP, as a Medication in the Bundle.
MEDICATION_AMP = {
    "resourceType": "Medication",
    "code": coded(DMD, "22608811000001102", "Amoxicillin 500mg capsules (DE Pharmaceuticals)"),
}
# UKCore-MedicationRequest-EyeDrops-Example's shape: medicationReference; history, no quantity.
MEDICATION_REQUEST_BY_REFERENCE = {
    "resourceType": "MedicationRequest",
    "status": "completed",
    "intent": "order",
    "medicationReference": {"reference": MEDICATION_URL},
    "subject": SUBJECT,
    "authoredOn": "2022-09-10T15:00:00+00:00",
    "dosageInstruction": [{"text": "One capsule three times a day"}],
}
# A contained Medication coded with the VMP's current id (UKCore-MedicationRequest-Amoxicillin).
MEDICATION_REQUEST_CONTAINED = {
    "resourceType": "MedicationRequest",
    "contained": [
        {
            "resourceType": "Medication",
            "id": "amoxicillin",
            "code": coded(DMD, "39732411000001106", "Amoxicillin 500mg capsules"),
        }
    ],
    "status": "active",
    "intent": "order",
    "medicationReference": {"reference": "#amoxicillin"},
    "subject": SUBJECT,
    "authoredOn": "2023-06-15T15:00:00+00:00",
    "dosageInstruction": [{"text": "500mg three times a day"}],
    "dispenseRequest": {"quantity": {"value": 21, "unit": "capsule"}},
}


def with_status(resource: dict, element: str, code: str) -> dict:
    """A copy of `resource` whose `element` (a code or CodeableConcept) says `code`."""
    changed = copy.deepcopy(resource)
    current = changed.get(element)
    if isinstance(current, dict):
        system = current["coding"][0]["system"]
        changed[element] = {"coding": [{"system": system, "code": code}]}
    else:
        changed[element] = code
    return changed


def transaction(*resources: dict, patient: dict = PATIENT) -> dict:
    """A transaction Bundle: the patient (conditional on the NHS number), then `resources`."""
    entries = [
        {
            "fullUrl": PATIENT_URL,
            "resource": patient,
            "request": {
                "method": "POST",
                "url": "Patient",
                "ifNoneExist": f"identifier={NHS}|{NHS_NUMBER}",
            },
        }
    ]
    for r in resources:
        entry = {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
        if r is MEDICATION_AMP:
            entry["fullUrl"] = MEDICATION_URL
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "transaction", "entry": copy.deepcopy(entries)}


UKCORE_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-"
UKCORE_CODES = "https://fhir.hl7.org.uk/CodeSystem/UKCore-"
# UKCore-Patient-RichardSmith-Example's extensions, contact and languages (Makaton, multiple
# languages, interpreter required snippets), on a synthetic person.
PATIENT_WITH_UK_CORE_DETAILS = {
    **PATIENT,
    "extension": [
        {
            "url": UKCORE_EXTENSION + "EthnicCategory",
            "valueCodeableConcept": coded(
                UKCORE_CODES + "EthnicCategoryEngland", "G", "Mixed - Any other mixed background"
            ),
        },
        {
            "url": UKCORE_EXTENSION + "ContactPreference",
            "extension": [
                {
                    "url": "PreferredContactMethod",
                    "valueCodeableConcept": coded(
                        UKCORE_CODES + "PreferredContactMethod", "3", "Telephone"
                    ),
                },
                {
                    "url": "PreferredWrittenCommunicationFormat",
                    "valueCodeableConcept": coded(
                        UKCORE_CODES + "PreferredWrittenCommunicationFormat", "11", "Large print"
                    ),
                },
            ],
        },
        {
            "url": UKCORE_EXTENSION + "DeathNotificationStatus",
            "extension": [
                {
                    "url": "deathNotificationStatus",
                    "valueCodeableConcept": coded(
                        UKCORE_CODES + "DeathNotificationStatus", "U", "Removed"
                    ),
                },
                {"url": "systemEffectiveDate", "valueDateTime": "2019-08-01T00:00:00Z"},
            ],
        },
        {
            "url": UKCORE_EXTENSION + "ResidentialStatus",
            "valueCodeableConcept": coded(UKCORE_CODES + "ResidentialStatus", "H", "UK Resident"),
        },
        {
            "url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
            "valueBoolean": True,
        },
    ],
    "identifier": [
        {
            "extension": [
                {
                    "url": UKCORE_EXTENSION + "NHSNumberVerificationStatus",
                    "valueCodeableConcept": coded(
                        UKCORE_CODES + "NHSNumberVerificationStatusEngland",
                        "01",
                        "Number present and verified",
                    ),
                }
            ],
            "system": NHS,
            "value": NHS_NUMBER,
        }
    ],
    "contact": [
        {
            "extension": [{"url": UKCORE_EXTENSION + "ContactRank", "valuePositiveInt": 1}],
            "relationship": [
                coded(
                    UKCORE_CODES + "AdditionalPersonRelationshipRole",
                    "Personal",
                    "Personal relationship with the patient",
                )
            ],
            "name": {"use": "official", "family": "Johnson", "given": ["Katherine"]},
            "telecom": [{"system": "phone", "value": "07700 900123", "use": "mobile"}],
        }
    ],
    "communication": [
        {
            "language": {
                "coding": [
                    {
                        "system": "urn:ietf:bcp:47",
                        "code": "bfi",
                        "display": "British Sign Language",
                    },
                    {"system": SNOMED, "code": "703963007", "display": "Makaton vocabulary"},
                ]
            },
            "preferred": True,
        }
    ],
}
