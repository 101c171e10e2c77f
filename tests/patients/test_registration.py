"""Registering patients: NHS numbers, duplicates and the form's messages."""

from datetime import date

import pytest
from django.urls import reverse

from steadfast.accounts.models import Role
from steadfast.errors import DuplicateNHSNumber, PossibleDuplicatePatient
from steadfast.patients.models import Patient
from steadfast.patients.services import register_patient
from tests.factories import GPFactory, PatientFactory, PracticeFactory, UserFactory

pytestmark = pytest.mark.django_db


def details(**overrides) -> dict:
    base = {
        "nhs_number": "9434765919",
        "given_name": "Zoë",
        "family_name": "Ashworth",
        "date_of_birth": date(1970, 11, 24),
        "sex": "female",
        "address_line1": "4 Mill Lane",
        "postcode": "LS6 2AB",
    }
    return base | overrides


def form_data(**overrides) -> dict:
    data = details(date_of_birth="24/11/1970", nhs_number="943 476 5919") | overrides
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def reception(client):
    user = UserFactory(role=Role.RECEPTIONIST)
    client.force_login(user)
    return user


def test_registering_an_nhs_number_already_on_the_register_is_refused(reception):
    register_patient(reception.practice, details(), reception)
    with pytest.raises(DuplicateNHSNumber):
        register_patient(
            reception.practice, details(given_name="Other", family_name="Person"), reception
        )
    assert Patient.objects.count() == 1


def test_same_name_and_birth_date_is_a_warning_the_user_can_confirm(reception):
    register_patient(reception.practice, details(nhs_number=None), reception)
    twin = details(nhs_number=None, given_name="ZOE", family_name="ashworth")
    with pytest.raises(PossibleDuplicatePatient) as warning:
        register_patient(reception.practice, twin, reception)
    assert len(warning.value.matches) == 1
    register_patient(reception.practice, twin, reception, confirmed_not_duplicate=True)
    assert Patient.objects.count() == 2


def test_the_same_nhs_number_can_be_registered_at_another_practice(reception):
    register_patient(reception.practice, details(), reception)
    other = PracticeFactory()
    register_patient(other, details(), UserFactory(practice=other))
    assert Patient.objects.count() == 2


def test_registration_form_creates_the_patient_and_opens_their_page(client, reception):
    gp = GPFactory(practice=reception.practice)
    response = client.post(
        reverse("patients:register"), form_data(postcode="ls62ab", usual_gp=str(gp.pk)), follow=True
    )
    page = response.content.decode()
    assert "Registered ASHWORTH, Zoë" in page
    assert "943 476 5919" in page
    patient = Patient.objects.get()
    assert (patient.postcode, patient.usual_gp, patient.registered_on is not None) == (
        "LS6 2AB",
        gp,
        True,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "943 476 5918", "Enter a valid NHS number"),
        ("nhs_number", "12345", "Enter a valid NHS number"),
        ("postcode", "NOT A CODE", "Enter a full UK postcode"),
        ("date_of_birth", "31/02/1990", "Date of birth must be a real date"),
        ("date_of_birth", "01/01/2999", "must be today or in the past"),
        ("given_name", "", "Enter the first name"),
        ("email", "not-an-email", "Enter an email address"),
    ],
)
def test_registration_form_explains_bad_input(client, reception, field, value, message):
    response = client.post(reverse("patients:register"), form_data(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Patient.objects.exists()


def test_registration_form_flags_a_taken_nhs_number_on_the_field(client, reception):
    PatientFactory(practice=reception.practice, nhs_number="9434765919")
    response = client.post(reverse("patients:register"), form_data())
    assert "already registered at this practice" in response.content.decode()
    assert Patient.objects.count() == 1


def test_registration_form_warns_of_a_possible_duplicate_then_accepts_confirmation(
    client, reception
):
    PatientFactory(
        practice=reception.practice,
        nhs_number=None,
        given_name="Zoe",
        family_name="Ashworth",
        date_of_birth=date(1970, 11, 24),
    )
    first = client.post(reverse("patients:register"), form_data(nhs_number=""))
    assert "may already be registered" in first.content.decode()
    assert Patient.objects.count() == 1
    client.post(reverse("patients:register"), form_data(nhs_number="", confirm_not_duplicate="on"))
    assert Patient.objects.count() == 2


def test_patient_page_shows_demographics_to_reception(client, reception):
    patient = PatientFactory(
        practice=reception.practice, nhs_number="9434765919", phone="0113 496 0000"
    )
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "943 476 5919" in page and "0113 496 0000" in page and "24 Nov 1970" in page


def test_another_practices_patient_is_not_found(client, reception):
    stranger = PatientFactory()
    assert client.get(reverse("patients:detail", args=[stranger.pk])).status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("family_name", "Ashworth\u202eyrneH"),  # right-to-left override: shows "AshworthHenry"
        ("family_name", "Ash\u2066worth\u2069"),  # a bidi isolate
        ("given_name", "Zo\u0007ë"),  # a bell
        ("given_name", "Zoë\u001b[2J"),  # a terminal escape
        ("given_name", "Zo\u200bë"),  # a zero-width space: looks the same, searches differently
        ("given_name", "Zoë\nAnn"),
        ("title", "Dr\u200f"),
    ],
)
def test_names_with_control_or_direction_characters_are_refused(client, reception, field, value):
    response = client.post(reverse("patients:register"), form_data(**{field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "hidden control or text-direction characters" in page
    assert not Patient.objects.exists()


def test_names_in_any_script_are_still_accepted(client, reception):
    for n, (given, family) in enumerate(
        [("Siân", "O'Brien-Nuñez"), ("Zoë", "Ng"), ("محمد", "رضا"), ("नमस्\u200dते", "Łukasz")]
    ):
        data = form_data(given_name=given, family_name=family, nhs_number="")
        data["address_line1"] = f"{n} Mill Lane"
        client.post(reverse("patients:register"), data)
    assert Patient.objects.count() == 4
