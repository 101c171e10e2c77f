"""Organization, Practitioner, Schedule and Slot: finding free slots, honouring embargoes."""

from datetime import timedelta

from django.utils import timezone

from steadfast.appointments import services as appointments
from tests.factories import SlotFactory, UserFactory, london, tomorrow
from tests.fhir.helpers import ids, outcome

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def test_organization_is_the_practice_by_ods_code(api, practice):
    org = api.get(f"Organization/{practice.pk}").fhir
    assert org["identifier"] == [{"system": ODS, "value": practice.ods_code}]
    found = api.get(f"Organization?identifier={ODS}|{practice.ods_code}").fhir
    assert ids(found, "Organization") == [str(practice.pk)]
    assert api.get(f"Organization?identifier={ODS}|A99999").fhir["total"] == 0


def test_practitioners_are_the_clinicians_and_each_has_a_schedule(api, gp, practice):
    nurse = UserFactory(practice=practice, role="nurse")
    UserFactory(practice=practice, role="receptionist")
    assert set(ids(api.get("Practitioner").fhir, "Practitioner")) == {str(gp.pk), str(nurse.pk)}
    assert api.get(f"Practitioner/{gp.pk}").fhir["name"][0]["prefix"] == ["Dr"]
    schedule = api.get(f"Schedule/{gp.pk}").fhir
    assert schedule["actor"][0]["reference"] == f"Practitioner/{gp.pk}"
    assert ids(api.get(f"Schedule?actor=Practitioner/{nurse.pk}").fhir, "Schedule") == [
        str(nurse.pk)
    ]


def test_practitioner_roles_and_the_practice_location(api, gp, practice):
    role = api.get(f"PractitionerRole/{gp.pk}").fhir
    assert role["practitioner"] == {"reference": f"Practitioner/{gp.pk}"}
    assert role["organization"] == {"reference": f"Organization/{practice.pk}"}
    assert role["code"] == [{"text": "GP"}]
    found = api.get(f"PractitionerRole?practitioner=Practitioner/{gp.pk}").fhir
    assert ids(found, "PractitionerRole") == [str(gp.pk)]
    assert api.get("PractitionerRole?practitioner=Practitioner/0").fhir["total"] == 0
    place = api.get(f"Location/{practice.pk}").fhir
    assert place["address"]["postalCode"] == practice.postcode
    assert ids(api.get("Location").fhir, "Location") == [str(practice.pk)]
    assert api.get("Location/not-ours").status_code == 404


def _day() -> str:
    return tomorrow().isoformat()


def test_free_slots_in_a_date_range(api, gp, patient):
    free = SlotFactory(clinician=gp)
    booked = SlotFactory(clinician=gp)
    appointments.book_appointment(booked.pk, patient, gp)
    later = SlotFactory(clinician=gp, start=london(tomorrow() + timedelta(days=3), 9))
    later.end = later.start + timedelta(minutes=10)
    later.save()
    bundle = api.get(f"Slot?status=free&start=ge{_day()}&start=le{_day()}").fhir
    assert ids(bundle, "Slot") == [str(free.pk)]
    assert bundle["entry"][0]["resource"]["schedule"]["reference"] == f"Schedule/{gp.pk}"
    busy = api.get(f"Slot?status=busy&start={_day()}").fhir
    assert ids(busy, "Slot") == [str(booked.pk)]


def test_embargoed_slot_is_not_free_until_released(api, gp):
    embargoed = SlotFactory(clinician=gp, embargoed_until=timezone.now() + timedelta(hours=1))
    released = SlotFactory(clinician=gp, embargoed_until=timezone.now() - timedelta(minutes=1))
    free = ids(api.get("Slot?status=free").fhir, "Slot")
    assert str(released.pk) in free and str(embargoed.pk) not in free
    assert api.get(f"Slot/{embargoed.pk}").fhir["status"] == "busy-unavailable"
    unavailable = ids(api.get("Slot?status=busy-unavailable").fhir, "Slot")
    assert unavailable == [str(embargoed.pk)]


def test_slots_of_one_schedule_with_schedule_included(api, gp, practice):
    nurse = UserFactory(practice=practice, role="nurse")
    mine = SlotFactory(clinician=gp)
    SlotFactory(clinician=nurse)
    bundle = api.get(f"Slot?schedule=Schedule/{gp.pk}&_include=Slot:schedule").fhir
    assert ids(bundle, "Slot") == [str(mine.pk)]
    assert ids(bundle, "Schedule", mode="include") == [str(gp.pk)]


def test_paging_with_count_and_next_links(api, gp):
    made = [SlotFactory(clinician=gp) for _ in range(5)]
    first = api.get("Slot?status=free&_count=2").fhir
    assert first["total"] == 5 and len(ids(first, "Slot")) == 2
    seen = ids(first, "Slot")
    page = first
    while next_link := [link["url"] for link in page["link"] if link["relation"] == "next"]:
        page = api.get(next_link[0].split("/fhir/", 1)[1]).fhir
        seen += ids(page, "Slot")
    assert seen == [str(s.pk) for s in sorted(made, key=lambda s: s.start)]
    assert any(link["relation"] == "previous" for link in page["link"])


def test_slot_search_runs_a_bounded_number_of_queries(api, gp, django_assert_max_num_queries):
    for _ in range(30):
        SlotFactory(clinician=gp)
    with django_assert_max_num_queries(6):  # token user, slots, count, schedules
        assert len(ids(api.get("Slot?_include=Slot:schedule").fhir, "Slot")) == 30


def test_other_practices_slots_are_not_found(api):
    outcome(api.get(f"Slot/{SlotFactory().pk}"), 404)


def test_free_slots_by_service_type_and_delivery_channel(api, gp):
    urgent_phone = SlotFactory(clinician=gp, slot_type="urgent", delivery_mode="telephone")
    SlotFactory(clinician=gp, slot_type="urgent", delivery_mode="face_to_face")
    SlotFactory(clinician=gp, slot_type="routine", delivery_mode="telephone")
    found = api.get("Slot?status=free&service-type=urgent&delivery-channel=telephone").fhir
    assert ids(found, "Slot") == [str(urgent_phone.pk)]
    assert found["entry"][0]["resource"]["serviceType"][0]["coding"] == [{"code": "urgent"}]
    both = api.get("Slot?service-type=urgent&delivery-channel=telephone,face-to-face").fhir
    assert both["total"] == 2
