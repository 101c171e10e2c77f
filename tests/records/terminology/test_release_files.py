"""Reading the official release formats: SNOMED CT RF2 descriptions and dm+d VMP XML."""

from pathlib import Path

import pytest

from steadfast.records.terminology.release_files import (
    DmdVmp,
    SnomedConcept,
    TerminologyFileError,
    iter_dmd_vmps,
    iter_snomed_concepts,
    split_fsn,
)

FIXTURES = Path(__file__).parent / "fixtures"
DESCRIPTIONS = FIXTURES / "sct2_Description_Snapshot-en_GB1000000_20250101.txt"
LANGUAGE_REFSET = FIXTURES / "der2_cRefset_LanguageSnapshot-en-GB_GB1000000_20250101.txt"
VMP_XML = FIXTURES / "f_vmp2_3010125.xml"

REFSET_COLUMNS = (
    "id",
    "effectiveTime",
    "active",
    "moduleId",
    "refsetId",
    "referencedComponentId",
    "acceptabilityId",
)
REFSET_HEADER = "\t".join(REFSET_COLUMNS)


def concepts_by_id(*args, **kwargs) -> dict[str, SnomedConcept]:
    return {concept.concept_id: concept for concept in iter_snomed_concepts(*args, **kwargs)}


def write_refset(path: Path, *members: tuple[str, str, str, str]) -> Path:
    lines = [REFSET_HEADER]
    for number, (active, refset_id, description_id, acceptability) in enumerate(members):
        member_id = f"7c1d5a9e-0000-4000-8000-{number:012d}"
        lines.append(
            "\t".join(
                [
                    member_id,
                    "20250101",
                    active,
                    "900000000000207008",
                    refset_id,
                    description_id,
                    acceptability,
                ]
            )
        )
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_semantic_tag_comes_from_the_fully_specified_name():
    concepts = concepts_by_id(DESCRIPTIONS, LANGUAGE_REFSET)

    assert concepts["197480006"].semantic_tag == "disorder"
    assert concepts["21522001"].semantic_tag == "finding"


def test_term_is_the_synonym_the_uk_language_refset_marks_preferred():
    concepts = concepts_by_id(DESCRIPTIONS, LANGUAGE_REFSET)

    assert concepts["197480006"] == SnomedConcept("197480006", "Anxiety disorder", "disorder")
    assert concepts["406506008"].term == "Attention deficit hyperactivity disorder"


def test_a_merely_acceptable_synonym_is_not_taken_as_the_term():
    concepts = concepts_by_id(DESCRIPTIONS, LANGUAGE_REFSET)

    # 'Akureyri disease' is acceptable only: the term falls back to the FSN without its tag.
    assert concepts["52702003"].term == "Chronic fatigue syndrome"


def test_a_preferred_synonym_wins_over_the_fsn(tmp_path):
    refset = write_refset(
        tmp_path / "der2_cRefset_LanguageSnapshot-en-GB.txt",
        ("1", "999001261000000100", "87702015", "900000000000548007"),
    )

    assert concepts_by_id(DESCRIPTIONS, refset)["52702003"].term == "Akureyri disease"


def test_preference_in_a_non_uk_refset_is_ignored(tmp_path):
    us_english = "900000000000509007"
    refset = write_refset(
        tmp_path / "der2_cRefset_LanguageSnapshot-en-US.txt",
        ("1", us_english, "87702015", "900000000000548007"),
    )

    assert concepts_by_id(DESCRIPTIONS, refset)["52702003"].term == "Chronic fatigue syndrome"


def test_the_most_specific_uk_refset_decides_between_two_preferred_synonyms(tmp_path):
    gb_english, nhs_clinical = "900000000000508004", "999001261000000100"
    refset = write_refset(
        tmp_path / "der2_cRefset_LanguageSnapshot-en-GB.txt",
        ("1", gb_english, "87702015", "900000000000548007"),
        ("1", nhs_clinical, "303689015", "900000000000548007"),
    )

    concepts = concepts_by_id(DESCRIPTIONS, refset)

    assert concepts["52702003"].term == "Akureyri disease"  # only the GB refset speaks
    assert concepts["197480006"].term == "Anxiety disorder"


def test_inactive_descriptions_and_refset_members_are_ignored():
    concepts = concepts_by_id(DESCRIPTIONS, LANGUAGE_REFSET)

    # Actinic keratosis has only an inactive FSN: without a semantic tag it is not returned.
    assert "201101007" not in concepts
    # The preferred synonym 'Abdominal pain' is inactive; the FSN name stands in.
    assert concepts["21522001"].term == "Abdominal pain"
    # Addison's disease: the member marking its synonym preferred is inactive.
    assert concepts["363732003"].term == "Addison's disease"


def test_without_a_language_refset_the_term_is_the_fsn_without_its_tag():
    concepts = concepts_by_id(DESCRIPTIONS)

    assert concepts["406506008"].term == "Attention deficit hyperactivity disorder"
    assert concepts["52702003"].term == "Chronic fatigue syndrome"


def test_a_concept_snapshot_limits_the_result_to_active_concepts(tmp_path):
    concept_file = tmp_path / "sct2_Concept_Snapshot_GB1000000_20250101.txt"
    concept_file.write_text(
        "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId\r\n"
        "197480006\t20020131\t1\t900000000000207008\t900000000000074008\r\n"
        "52702003\t20020131\t0\t900000000000207008\t900000000000074008\r\n",
        encoding="utf-8",
    )

    concepts = concepts_by_id(DESCRIPTIONS, LANGUAGE_REFSET, concept_path=concept_file)

    assert set(concepts) == {"197480006"}


def test_concepts_come_out_in_concept_id_order():
    ids = [int(concept.concept_id) for concept in iter_snomed_concepts(DESCRIPTIONS)]

    assert ids == sorted(ids)


def test_a_file_with_the_wrong_header_is_refused_with_its_name(tmp_path):
    wrong = tmp_path / "descriptions.txt"
    wrong.write_text("conceptId\tterm\r\n195967001\tAsthma\r\n", encoding="utf-8")

    with pytest.raises(TerminologyFileError, match=r"descriptions\.txt"):
        list(iter_snomed_concepts(wrong))


def test_a_short_line_is_refused_with_its_line_number(tmp_path):
    broken = tmp_path / "sct2_Description_Snapshot.txt"
    text = DESCRIPTIONS.read_text(encoding="utf-8")
    broken.write_text(text + "123\t20250101\t1\r\n", encoding="utf-8")

    with pytest.raises(TerminologyFileError, match="line 14"):
        list(iter_snomed_concepts(broken))


@pytest.mark.parametrize(
    ("fsn", "expected"),
    [
        ("Asthma (disorder)", ("Asthma", "disorder")),
        ("Body mass index (observable entity)", ("Body mass index", "observable entity")),
        ("Eggs (edible) (substance)", ("Eggs (edible)", "substance")),
        ("No tag at all", ("No tag at all", "")),
    ],
)
def test_split_fsn(fsn, expected):
    assert split_fsn(fsn) == expected


def test_dmd_vmps_are_read_with_their_previous_vpid():
    vmps = list(iter_dmd_vmps(VMP_XML))

    assert vmps == [
        DmdVmp("318248001", "Verapamil 160mg tablets"),
        DmdVmp("42381411000001102", "Ramipril 2.5mg capsules", previous_vpid="318901006"),
    ]


def test_invalid_vmps_and_other_sections_are_skipped():
    names = [vmp.name for vmp in iter_dmd_vmps(VMP_XML)]

    assert "Glimepiride 2mg tablets" not in names
    assert len(names) == 2  # VPI and DROUTE rows carry a VPID too but are not products


def test_malformed_dmd_xml_is_refused_with_the_file_name(tmp_path):
    broken = tmp_path / "f_vmp2_3999999.xml"
    broken.write_text("<VIRTUAL_MED_PRODUCTS><VMPS><VMP><VPID>1</VPID>", encoding="utf-8")

    with pytest.raises(TerminologyFileError, match=r"f_vmp2_3999999\.xml"):
        list(iter_dmd_vmps(broken))


def test_a_vmp_without_a_name_is_refused(tmp_path):
    broken = tmp_path / "f_vmp2_3999998.xml"
    broken.write_text(
        "<VIRTUAL_MED_PRODUCTS><VMPS><VMP><VPID>318248001</VPID></VMP></VMPS>"
        "</VIRTUAL_MED_PRODUCTS>",
        encoding="utf-8",
    )

    with pytest.raises(TerminologyFileError, match="without VPID or NM"):
        list(iter_dmd_vmps(broken))
