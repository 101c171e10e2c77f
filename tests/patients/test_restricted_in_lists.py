"""Pages that list or show patients: a restricted record appears in search results only as its
name, birth date and a "Restricted record" tag; searches are audited with the ids they showed;
pages showing one patient (cancel, move, the booking picker) are audited and honour the
restriction."""

import uuid
from datetime import date

import pytest
from django.urls import reverse

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.appointments.models import AppointmentStatus
from steadfast.audit.models import AuditEvent, Outcome
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory

pytestmark = pytest.mark.django_db
TAG = "Restricted record"


@pytest.fixture
def gp():
    return GPFactory()


@pytest.fixture
def reception(client, gp):
    user = UserFactory(practice=gp.practice, role=Role.RECEPTIONIST)
    client.force_login(user)
    return user


@pytest.fixture
def hidden(gp):
    return PatientFactory(
        practice=gp.practice,
        given_name="Harriet",
        family_name="Lockwood",
        postcode="LS7 3QQ",
        usual_gp=gp,
        is_sensitive=True,
    )


def _shows_only_name_and_birth_date(page: str, patient) -> None:
    assert "LOCKWOOD, Harriet" in page and TAG in page
    assert "24 Nov 1970" in page
    spaced = f"{patient.nhs_number[:3]} {patient.nhs_number[3:6]} {patient.nhs_number[6:]}"
    assert spaced not in page and patient.postcode not in page


def _ids_audited(user, action: str) -> set[uuid.UUID]:
    found = set()
    for event in AuditEvent.objects.filter(user_id=user.pk, action=action):
        found |= {uuid.UUID(word) for word in event.detail.split(": ", 1)[-1].split()}
    return found


def test_patient_search_shows_a_restricted_record_only_by_name_and_birth_date(
    client, reception, hidden
):
    page = client.get(reverse("patients:search"), {"q": "lockwood"}).content.decode()
    _shows_only_name_and_birth_date(page, hidden)


def test_booking_picker_shows_a_restricted_record_only_by_name_and_birth_date(
    client, reception, gp, hidden
):
    url = reverse("appointments:book", args=[SlotFactory(clinician=gp).pk])
    page = client.get(url, {"q": "lockwood"}).content.decode()
    _shows_only_name_and_birth_date(page, hidden)
    assert _ids_audited(reception, "search_patients_for_booking") == {hidden.pk}


def test_a_possible_duplicate_that_is_restricted_shows_only_name_and_birth_date(client, hidden):
    client.force_login(UserFactory(practice=hidden.practice, role=Role.RECEPTIONIST))
    page = client.post(
        reverse("patients:register"),
        {
            "given_name": "Harriet",
            "family_name": "Lockwood",
            "date_of_birth": "24/11/1970",
            "sex": "female",
            "address_line1": "1 Elm Road",
            "postcode": "LS6 2AB",
        },
    ).content.decode()
    assert "This patient may already be registered" in page, page
    _shows_only_name_and_birth_date(page, hidden)


def test_patient_search_is_audited_with_the_ids_it_showed(client, reception, gp):
    found = [PatientFactory(practice=gp.practice, family_name="Ormerod") for _ in range(6)]
    PatientFactory(practice=gp.practice, family_name="Jones", date_of_birth=date(1950, 1, 1))
    client.get(reverse("patients:search"), {"q": "ormerod"})
    assert _ids_audited(reception, "search_patients") == {p.pk for p in found}
    events = AuditEvent.objects.filter(action="search_patients")
    assert events.count() == 2  # five ids to an entry
    assert all("ormerod" not in e.detail.lower() for e in events)


def test_a_search_showing_one_patient_is_in_their_access_log(client, reception, gp):
    only = PatientFactory(practice=gp.practice, family_name="Quarmby")
    client.get(reverse("patients:search"), {"q": "quarmby"})
    assert AuditEvent.objects.filter(action="search_patients", patient_id=only.pk).exists()


@pytest.mark.parametrize("page", ["appointments:cancel", "appointments:reschedule"])
def test_pages_showing_an_appointments_patient_are_audited(client, reception, gp, page):
    patient = PatientFactory(practice=gp.practice)
    booked = appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp)
    assert client.get(reverse(page, args=[booked.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        user_id=reception.pk, patient_id=patient.pk, outcome=Outcome.ALLOWED
    ).exists()


@pytest.mark.parametrize("page", ["appointments:cancel", "appointments:reschedule"])
def test_pages_showing_a_restricted_patient_ask_for_break_glass(
    client, reception, gp, hidden, page
):
    booked = appointments.book_appointment(SlotFactory(clinician=gp).pk, hidden, gp)
    url = reverse(page, args=[booked.pk])
    for response in (client.get(url), client.post(url, {"reason": "Rang", "slot": "x"})):
        assert response.status_code == 302
        assert response.url.startswith(reverse("audit:break_glass", args=[hidden.pk]))
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
    assert AuditEvent.objects.filter(
        user_id=reception.pk, patient_id=hidden.pk, outcome=Outcome.DENIED
    ).exists()


def test_marking_a_restricted_patient_arrived_asks_for_break_glass(client, reception, gp, hidden):
    booked = appointments.book_appointment(SlotFactory(clinician=gp).pk, hidden, gp)
    url = reverse("appointments:status", args=[booked.pk])
    response = client.post(url, {"to_status": "arrived"})
    assert response.url.startswith(reverse("audit:break_glass", args=[hidden.pk]))
    in_place = client.post(url, {"to_status": "arrived", "row": "arrivals"}, HTTP_HX_REQUEST="true")
    assert in_place["HX-Redirect"].startswith(reverse("audit:break_glass", args=[hidden.pk]))
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
