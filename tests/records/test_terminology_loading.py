"""Loading terminology: the shipped subset at migrate, and official release files by command."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from steadfast.records.models import CodeSystem, Concept
from steadfast.records.observations import SMOKING_STATUS, TYPES
from steadfast.records.terminology.release_files import shipped_dmd, shipped_snomed
from tests.records import entries

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "terminology" / "fixtures"


def test_a_migrated_database_has_the_shipped_subset():
    assert Concept.objects.filter(system=CodeSystem.SNOMED).count() == len(shipped_snomed())
    assert Concept.objects.filter(system=CodeSystem.DMD).count() == len(shipped_dmd())


def test_loading_the_shipped_subset_again_changes_nothing(capsys):
    before = Concept.objects.count()
    call_command("load-terminology")
    assert Concept.objects.count() == before


def test_every_code_the_record_uses_is_a_shipped_code():
    snomed = {c.concept_id for c in shipped_snomed()}
    dmd = {v.vpid for v in shipped_dmd()}
    used = [t.code for t in TYPES.values()] + [t.code2 for t in TYPES.values() if t.code2]
    used += list(SMOKING_STATUS.values())
    assert set(used) <= snomed
    test_codes = {v for k, v in vars(entries).items() if k.isupper() and isinstance(v, str)}
    assert test_codes <= snomed | dmd


def test_rf2_and_dmd_release_files_load_with_uk_preferred_terms():
    call_command(
        "load-terminology",
        snomed_descriptions=str(FIXTURES / "sct2_Description_Snapshot-en_GB1000000_20250101.txt"),
        snomed_language_refset=str(
            FIXTURES / "der2_cRefset_LanguageSnapshot-en-GB_GB1000000_20250101.txt"
        ),
        dmd_vmp=str(FIXTURES / "f_vmp2_3010125.xml"),
    )
    anxiety = Concept.objects.get(system=CodeSystem.SNOMED, code="197480006")
    assert (anxiety.term, anxiety.use) == ("Anxiety disorder", "problem")
    assert Concept.objects.filter(system=CodeSystem.DMD, code="318248001").exists()


def test_a_missing_release_file_is_a_clear_error():
    with pytest.raises(CommandError):
        call_command("load-terminology", dmd_vmp="/nonexistent/f_vmp2.xml")
