"""The SNOMED CT and dm+d subset shipped with Steadfast (snomed_gp.tsv, dmd_vmp.tsv)."""

from collections import Counter

import pytest

from steadfast.records.terminology.release_files import (
    SNOMED_USES,
    ShippedConcept,
    ShippedVmp,
    shipped_dmd,
    shipped_snomed,
)
from steadfast.records.terminology.sctid import is_concept_id, partition, verhoeff_valid

PENICILLINS = "764146007"
NSAIDS = "372665008"
CODEINE = "387494007"

CORE_PROBLEMS = {
    "38341003": "hypertension",
    "44054006": "type 2 diabetes mellitus",
    "46635009": "type 1 diabetes mellitus",
    "195967001": "asthma",
    "13645005": "chronic obstructive lung disease",
    "49436004": "atrial fibrillation",
    "84114007": "heart failure",
    "414545008": "ischaemic heart disease",
    "433144002": "chronic kidney disease stage 3",
    "431857002": "chronic kidney disease stage 4",
    "433146000": "chronic kidney disease stage 5",
    "40930008": "hypothyroidism",
    "35489007": "depressive disorder",
    "197480006": "anxiety disorder",
    "396275006": "osteoarthritis",
    "55822004": "hyperlipidaemia",
    "230690007": "stroke",
    "84757009": "epilepsy",
    "414916001": "obesity",
    "90560007": "gout",
}
CORE_OBSERVABLES = {
    "271649006": "systolic blood pressure",
    "271650006": "diastolic blood pressure",
    "78564009": "pulse rate",
    "27113001": "body weight",
    "50373000": "body height",
    "60621009": "body mass index",
    "386725007": "body temperature",
    "999791000000106": "HbA1c (IFCC, mmol/mol)",
    "1011481000000105": "eGFR",
    "994351000000103": "serum total cholesterol",
}
CORE_FINDINGS = {
    "77176002": "current smoker",
    "8517006": "ex-smoker",
    "266919005": "never smoked tobacco",
}
CORE_ALLERGENS = {
    PENICILLINS: "penicillin",
    "372687004": "amoxicillin",
    NSAIDS: "NSAID",
    "387458008": "aspirin",
    "387207008": "ibuprofen",
    CODEINE: "codeine",
    "387406002": "sulfonamide",
    "387179001": "trimethoprim",
    "111088007": "latex",
    "762952008": "peanut",
    "102263004": "egg",
    "288328004": "bee venom",
}
CORE_REACTIONS = {
    "271807003": "rash",
    "126485001": "urticaria",
    "39579001": "anaphylaxis",
    "41291007": "angioedema",
    "56018004": "wheezing",
    "422587007": "nausea",
}
CORE_FLAGS = {"224484003": "carer", "105529008": "lives alone"}
CORE_VACCINATIONS = {
    "86198006": "influenza",
    "840534001": "COVID-19",
    "12866006": "pneumococcal",
    "127786006": "tetanus",
    "38598009": "MMR",
}
CORE_CONCEPTS = [
    (CORE_PROBLEMS, "problem"),
    (CORE_OBSERVABLES, "observable"),
    (CORE_FINDINGS, "finding"),
    (CORE_ALLERGENS, "allergen"),
    (CORE_REACTIONS, "reaction"),
    (CORE_FLAGS, "flag"),
    (CORE_VACCINATIONS, "vaccination"),
]

CORE_VMPS = [
    "Amlodipine 5mg tablets",
    "Ramipril",
    "Lisinopril",
    "Bendroflumethiazide 2.5mg tablets",
    "Atorvastatin",
    "Simvastatin",
    "Metformin 500mg tablets",
    "Gliclazide 80mg tablets",
    "Salbutamol",
    "Beclometasone",
    "Amoxicillin 500mg capsules",
    "Flucloxacillin",
    "Phenoxymethylpenicillin",
    "Co-amoxiclav",
    "Clarithromycin",
    "Doxycycline",
    "Trimethoprim",
    "Nitrofurantoin",
    "Ibuprofen",
    "Naproxen",
    "Paracetamol 500mg tablets",
    "Co-codamol 30mg/500mg tablets",
    "Codeine 30mg tablets",
    "Omeprazole",
    "Lansoprazole",
    "Levothyroxine",
    "Sertraline 50mg tablets",
    "Citalopram",
    "Fluoxetine",
    "Amitriptyline",
    "Apixaban",
    "Warfarin",
    "Bisoprolol",
    "Furosemide 40mg tablets",
]


@pytest.fixture(scope="module")
def concepts() -> list[ShippedConcept]:
    return shipped_snomed()


@pytest.fixture(scope="module")
def vmps() -> list[ShippedVmp]:
    return shipped_dmd()


def test_every_shipped_snomed_id_has_a_valid_check_digit_and_concept_partition(concepts):
    bad = [c.concept_id for c in concepts if not is_concept_id(c.concept_id)]
    assert bad == []
    assert {partition(c.concept_id) for c in concepts} <= {"00", "10"}


def test_every_shipped_vpid_has_a_valid_check_digit_and_concept_partition(vmps):
    bad = [v.vpid for v in vmps if not verhoeff_valid(v.vpid)]
    assert bad == []
    bad = [v.vpid for v in vmps if partition(v.vpid) not in {"00", "10"}]
    assert bad == []
    assert all(is_concept_id(v.vpid) for v in vmps)


def test_shipped_files_have_no_duplicate_ids(concepts, vmps):
    def duplicates(ids):
        return [value for value, count in Counter(ids).items() if count > 1]

    assert duplicates(c.concept_id for c in concepts) == []
    assert duplicates(v.vpid for v in vmps) == []
    assert duplicates(v.name for v in vmps) == []


def test_a_vpid_is_never_also_a_shipped_snomed_concept(concepts, vmps):
    assert {v.vpid for v in vmps}.isdisjoint(c.concept_id for c in concepts)


def test_every_shipped_concept_has_a_term_tag_and_known_use(concepts):
    for concept in concepts:
        assert concept.term.strip() == concept.term != ""
        assert concept.semantic_tag != ""
        assert concept.use in SNOMED_USES


def test_every_shipped_vmp_has_a_name_and_route(vmps):
    for vmp in vmps:
        assert vmp.name.strip() == vmp.name != ""
        assert vmp.route in {"oral", "inhalation", "topical"}


def test_every_allergy_class_refers_to_a_shipped_allergen(concepts, vmps):
    allergens = {c.concept_id for c in concepts if c.use == "allergen"}
    classes = {v.allergy_class for v in vmps if v.allergy_class is not None}
    assert classes
    assert classes - allergens == set()


@pytest.mark.parametrize(("core", "use"), CORE_CONCEPTS, ids=[use for _, use in CORE_CONCEPTS])
def test_core_gp_concepts_are_shipped_with_their_use(concepts, core, use):
    by_id = {c.concept_id: c for c in concepts}
    missing = {cid: label for cid, label in core.items() if cid not in by_id}
    assert missing == {}
    assert {cid: by_id[cid].use for cid in core} == dict.fromkeys(core, use)


def test_smoking_status_and_observable_tags_come_from_the_right_hierarchies(concepts):
    by_id = {c.concept_id: c for c in concepts}
    assert {by_id[cid].semantic_tag for cid in CORE_OBSERVABLES} == {"observable entity"}
    assert {by_id[cid].semantic_tag for cid in CORE_FINDINGS} == {"finding"}
    assert by_id["44054006"].semantic_tag == "disorder"
    assert by_id[PENICILLINS].semantic_tag == "substance"


@pytest.mark.parametrize("name", CORE_VMPS)
def test_commonly_prescribed_vmps_are_shipped(vmps, name):
    assert any(v.name.startswith(name) for v in vmps)


@pytest.mark.parametrize(
    ("prefix", "allergy_class"),
    [
        ("Amoxicillin ", PENICILLINS),
        ("Flucloxacillin ", PENICILLINS),
        ("Phenoxymethylpenicillin ", PENICILLINS),
        ("Co-amoxiclav ", PENICILLINS),
        ("Ibuprofen ", NSAIDS),
        ("Naproxen ", NSAIDS),
        ("Aspirin ", NSAIDS),
        ("Codeine ", CODEINE),
        ("Co-codamol ", CODEINE),
    ],
)
def test_drugs_in_an_allergy_class_carry_that_class(vmps, prefix, allergy_class):
    matching = [v for v in vmps if v.name.startswith(prefix)]
    assert matching
    assert {v.allergy_class for v in matching} == {allergy_class}


@pytest.mark.parametrize(
    "name",
    ["Paracetamol 500mg tablets", "Metformin 500mg tablets", "Amlodipine 5mg tablets"],
)
def test_drugs_outside_any_allergy_class_carry_none(vmps, name):
    assert [v.allergy_class for v in vmps if v.name == name] == [None]


def test_amlodipine_5mg_tablets_reads_back_with_every_column(vmps):
    assert ShippedVmp("319283006", "Amlodipine 5mg tablets", "oral", None) in vmps


def test_hypertension_reads_back_with_every_column(concepts):
    hypertension = next(c for c in concepts if c.concept_id == "38341003")
    assert hypertension.semantic_tag == "disorder"
    assert hypertension.use == "problem"
    assert "ypertensi" in hypertension.term
