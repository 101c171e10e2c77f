"""Two clinicians save a consultation for one appointment at the same moment (PostgreSQL).

Found by the practice node's two-server test: the loser got a database error (a 500) instead
of being told the appointment already has its consultation.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from steadfast.appointments import services as book
from steadfast.records import services
from steadfast.records.errors import InvalidEntry
from steadfast.records.models import Consultation
from tests.factories import GPFactory, PatientFactory, SlotFactory

RACERS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_consultation_per_appointment_and_a_clear_answer_to_the_others():
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    appointment = book.mark_arrived(
        book.book_appointment(SlotFactory(clinician=gp).pk, patient, gp), gp
    )
    start_line = threading.Barrier(RACERS)

    def save(n):
        try:
            start_line.wait(timeout=30)
            with scopes_disabled():
                services.save_consultation(
                    patient,
                    gp,
                    services.ConsultationNote("face_to_face", history=f"Seen ({n})."),
                    appointment=appointment,
                )
            return "saved"
        except InvalidEntry as exc:
            return str(exc)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = list(pool.map(save, range(RACERS)))

    assert outcomes.count("saved") == 1
    refused = [o for o in outcomes if o != "saved"]
    assert all("already has a consultation" in o for o in refused), outcomes
    assert Consultation.objects.filter(appointment=appointment).count() == 1
