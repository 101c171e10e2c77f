"""Finding a patient from one search box: NHS number, name, date of birth, postcode."""

from datetime import date

import pytest

from steadfast.patients.queries import search_patients
from tests.factories import PatientFactory, PracticeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    return PracticeFactory()


@pytest.fixture
def zoe(practice):
    return PatientFactory(
        practice=practice,
        given_name="Zoë",
        family_name="O'Brien-Hughes",
        date_of_birth=date(1984, 3, 7),
        postcode="LS6 2QB",
        nhs_number="9434765919",
    )


@pytest.fixture
def others(practice):
    return [
        PatientFactory(practice=practice, given_name="Zachary", family_name="Brown"),
        PatientFactory(practice=practice, given_name="Olivia", family_name="Hughes"),
        PatientFactory(practice=practice, given_name="Zoe", family_name="Smith"),
    ]


def found(practice, text) -> set[str]:
    return {f"{p.given_name} {p.family_name}" for p in search_patients(practice, text)}


@pytest.mark.parametrize("text", ["9434765919", "943 476 5919", "943-476-5919"])
def test_nhs_number_in_any_spacing(practice, zoe, others, text):
    assert found(practice, text) == {"Zoë O'Brien-Hughes"}


def test_a_mistyped_nhs_number_finds_nobody(practice, zoe, others):
    assert found(practice, "943 476 5918") == set()


@pytest.mark.parametrize("text", ["zoe", "ZOË", "Zoe"])
def test_given_name_ignores_case_and_accents(practice, zoe, others, text):
    assert found(practice, text) == {"Zoë O'Brien-Hughes", "Zoe Smith"}


@pytest.mark.parametrize("text", ["obrien", "o'brien", "OBRIENH", "zo obr"])
def test_partial_names_ignore_punctuation_and_match_every_word(practice, zoe, others, text):
    assert found(practice, text) == {"Zoë O'Brien-Hughes"}


@pytest.mark.parametrize("text", ["07/03/1984", "7 Mar 1984", "1984-03-07", "7 March 1984"])
def test_date_of_birth_in_the_ways_people_write_it(practice, zoe, others, text):
    assert found(practice, text) == {"Zoë O'Brien-Hughes"}


@pytest.mark.parametrize("text", ["LS6 2QB", "ls62qb", "LS6"])
def test_postcode_whole_or_outward_code(practice, zoe, others, text):
    assert found(practice, text) == {"Zoë O'Brien-Hughes"}


def test_name_with_date_of_birth_narrows_the_match(practice, zoe, others):
    PatientFactory(practice=practice, given_name="Zoe", family_name="Obrien")  # born 1970
    assert found(practice, "obrien 07/03/1984") == {"Zoë O'Brien-Hughes"}
    assert found(practice, "obrien") == {"Zoë O'Brien-Hughes", "Zoe Obrien"}


def test_another_practices_patients_are_never_found(practice, zoe):
    elsewhere = PracticeFactory()
    PatientFactory(practice=elsewhere, given_name="Zoe", family_name="Obrien")
    assert found(elsewhere, "zoe") == {"Zoe Obrien"}
    assert found(practice, "zoe") == {"Zoë O'Brien-Hughes"}


def test_nonsense_finds_nobody_rather_than_everybody(practice, zoe, others):
    assert found(practice, "") == set()
    assert found(practice, "   ") == set()
    assert found(practice, "!!!") == set()


def test_the_search_page_lists_matches_with_nhs_number_spaced(client, practice, zoe, others):
    client.force_login(UserFactory(practice=practice))
    page = client.get("/patients/", {"q": "zoë o'b"}).text
    assert "943 476 5919" in page
    assert "O&#39;BRIEN-HUGHES, Zoë" in page
    assert "SMITH, Zoe" not in page  # the listing name: the signed-in user may be a Smith too
