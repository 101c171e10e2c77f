"""Printing (the paper fallback): the day's lists, each clinician's and arrivals, as A4 PDFs."""

from datetime import timedelta

import pytest
from weasyprint import HTML

from steadfast.accounts.models import Role
from steadfast.appointments import printing, queries
from steadfast.appointments import services as appointments
from steadfast.audit.models import AuditEvent
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
    london,
    tomorrow,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_booked():
    gp = GPFactory(last_name="Okafor")
    nurse = UserFactory(practice=gp.practice, role=Role.NURSE, last_name="Patel")
    patient = PatientFactory(practice=gp.practice, family_name="Fairweather")
    for n in range(3):
        SlotFactory(clinician=nurse, start=london(tomorrow(), 9, 10 * n))
    booked = SlotFactory(clinician=gp, start=london(tomorrow(), 9))
    appointments.book_appointment(booked.pk, patient, gp, reason="Cough")
    return gp, nurse, patient


def page_texts(html: str) -> list[str]:
    def text(box) -> str:
        own = getattr(box, "text", "")
        return own + " ".join(text(child) for child in getattr(box, "children", []))

    return [text(page._page_box) for page in HTML(string=html).render().pages]


def test_the_day_prints_a_page_per_clinician_with_who_is_booked(day_booked):
    gp, _, _ = day_booked
    lists = queries.printed_lists(gp.practice, tomorrow())
    pages = page_texts(
        printing.lists_html(title="Book", day=tomorrow(), practice=gp.practice, lists=lists)
    )
    assert len(pages) == 2
    gp_page = next(p for p in pages if "Okafor" in p)
    assert "FAIRWEATHER" in gp_page and "Cough" in gp_page
    assert "Patel" in next(p for p in pages if "Okafor" not in p)


def test_pdf_downloads_for_the_day_arrivals_and_my_list_are_audited(client, day_booked):
    gp, _, _ = day_booked
    force_login_verified(client, gp)
    day = tomorrow().isoformat()
    for url, action in [
        (f"/appointments/day.pdf?date={day}", "print_appointment_book"),
        (f"/appointments/arrivals.pdf?date={day}", "print_arrivals"),
        (f"/appointments/my-list.pdf?date={day}", "print_own_list"),
    ]:
        response = client.get(url)
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        assert AuditEvent.objects.filter(action=action, user_id=gp.pk).exists()


def test_printing_the_day_costs_two_queries_however_many_slots(
    day_booked, django_assert_max_num_queries
):
    gp, nurse, _ = day_booked
    for n in range(30):
        SlotFactory(clinician=nurse, start=london(tomorrow(), 13) + timedelta(minutes=10 * n))
    with django_assert_max_num_queries(2):
        queries.printed_lists(gp.practice, tomorrow())
