"""What a new user tripped over (issue 17), where the browser adds nothing: each fails on the
code before the fix."""

import pytest
from django.urls import reverse

from steadfast.accounts.models import Role
from steadfast.records.models import Consultation
from tests.factories import GPFactory, PatientFactory, UserFactory, force_login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def reception(client):
    user = UserFactory(role=Role.RECEPTIONIST)
    client.force_login(user)
    return user


def registration(**overrides) -> dict:
    data = {
        "given_name": "Zoë",
        "family_name": "Ashworth",
        "date_of_birth[day]": "24",
        "date_of_birth[month]": "11",
        "date_of_birth[year]": "1970",
        "sex": "female",
        "address_line1": "4 Mill Lane",
        "postcode": "LS6 2AB",
    }
    return data | overrides


# Bug 3: no length limits on free text.
def test_a_200000_character_history_is_refused_with_a_message(client):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    force_login_verified(client, gp)
    response = client.post(
        f"/record/patients/{patient.pk}/consultation/",
        {"consultation_type": "face_to_face", "history": "x" * 200_000, "save": "1"},
    )
    assert response.status_code == 400
    assert "History must be 10,000 characters or less" in response.content.decode()
    assert not Consultation.objects.exists()


def test_a_3000_character_search_is_refused_with_a_message(client, reception):
    response = client.get(reverse("patients:search"), {"q": "smith " * 500})
    assert "Search for 100 characters or less" in response.content.decode()


# Bug 4: registration's checks and wording.
def test_registration_refuses_a_phone_number_of_letters(client, reception):
    response = client.post(reverse("patients:register"), registration(phone="abc"))
    assert response.status_code == 400
    assert "Enter a phone number, like 0113 496 0000" in response.content.decode()


def test_registration_accepts_a_uk_mobile_number(client, reception):
    response = client.post(reverse("patients:register"), registration(phone="07700 900 982"))
    assert response.status_code == 302


def test_an_over_long_name_is_explained_in_plain_words(client, reception):
    response = client.post(reverse("patients:register"), registration(given_name="A" * 101))
    page = response.content.decode()
    assert "First name must be 100 characters or less" in page
    assert "Ensure this value" not in page


def test_optional_registration_fields_say_so(client, reception):
    page = client.get(reverse("patients:register")).content.decode()
    for label in ("NHS number", "Title", "Address line 2", "Town or city", "Phone", "Email"):
        assert f"{label} (optional)" in page
    assert "First name (optional)" not in page
    assert "Postcode (optional)" not in page


def test_date_of_birth_is_three_fields_and_says_which_part_is_missing(client, reception):
    page = client.get(reverse("patients:register")).content.decode()
    for part in ("day", "month", "year"):
        assert f'name="date_of_birth[{part}]"' in page
    response = client.post(
        reverse("patients:register"), registration(**{"date_of_birth[month]": ""})
    )
    assert "Date of birth must include a month" in response.content.decode()


# Bug 5: an audit search with From after To.
def test_audit_search_with_from_after_to_says_what_is_wrong(client):
    manager = UserFactory(role=Role.PRACTICE_MANAGER)
    force_login_verified(client, manager)
    response = client.get(
        reverse("audit:search"),
        {
            "first_day[day]": "10",
            "first_day[month]": "3",
            "first_day[year]": "2026",
            "last_day[day]": "1",
            "last_day[month]": "3",
            "last_day[year]": "2026",
        },
    )
    page = response.content.decode()
    assert "To must be the same as or after From" in page
    assert "No entries match" not in page


# Bug 5: an impossible date in the address quietly showed today.
@pytest.mark.parametrize("page", ["/appointments/", "/appointments/arrivals/"])
def test_an_impossible_date_says_so_instead_of_quietly_showing_today(client, reception, page):
    response = client.get(page, {"date": "2026-13-45"})
    assert "That is not a real date, so today is shown instead." in response.content.decode()
