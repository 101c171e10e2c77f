"""The reconcile worklist, as a practice manager uses it after downtime: a booking whose slot was
taken on the main system is booked into the nearest free slot, and an entry for a patient who
left meanwhile is set aside with a reason, which their record then shows."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from steadfast.accounts.models import Role
from steadfast.appointments import services as book
from steadfast.appointments.models import Appointment
from steadfast.continuity.node.tokens import issue_node_token
from steadfast.patients.models import Patient, RegistrationStatus
from tests.continuity.downtime import NodeDowntime, codes, drop_node_rows, send
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_books_a_clash_elsewhere_and_sets_another_entry_aside(
    page: Page, sign_in, client
):
    gp = GPFactory(last_name="Okafor")
    practice = gp.practice
    manager = UserFactory(practice=practice, role=Role.PRACTICE_MANAGER)
    reception = UserFactory(practice=practice, role=Role.RECEPTIONIST)
    stays = PatientFactory(practice=practice, given_name="Imogen", family_name="Fairweather")
    leaves = PatientFactory(practice=practice, given_name="Barnaby", family_name="Gone")
    slots = [SlotFactory(clinician=gp) for _ in range(4)]
    token = issue_node_token(practice, "back-office")[1]
    with scopes_disabled():
        with NodeDowntime() as node:
            book.book_appointment(slots[0].pk, stays, reception)
            book.book_appointment(slots[1].pk, leaves, reception)
        drop_node_rows(node.session)
        book.book_appointment(slots[0].pk, PatientFactory(practice=practice), manager)
        Patient.objects.filter(pk=leaves.pk).update(registration_status=RegistrationStatus.DEDUCTED)
        assert codes(send(client, token, node.entries)) == [409, 409]

    sign_in(manager)
    page.goto("/continuity/reconcile/")
    clash = page.get_by_role("row").filter(has_text="Fairweather")
    expect(clash).to_contain_text("booked on the main system meanwhile")
    clash.get_by_role("link").click()
    expect(page.get_by_role("heading", name="On the main system")).to_be_visible()
    expect(page.get_by_role("radio").first).to_be_checked()
    page.get_by_role("button", name="Book this slot").click()
    expect(page.get_by_text("Booked into")).to_be_visible()
    with scopes_disabled():
        assert Appointment.objects.filter(patient=stays).exclude(slot=slots[0]).exists()

    page.get_by_role("row").filter(has_text="Gone").get_by_role("link").click()
    page.get_by_label("Or set it aside").fill("Left the practice; told by phone")
    page.get_by_role("button", name="Set aside").click()
    expect(page.get_by_text("No downtime entries need a person.")).to_be_visible()

    page.goto(f"/patients/{leaves.pk}/")
    expect(page.locator("#downtime-entries")).to_contain_text("Left the practice; told by phone")
