"""Bookings made continuously by a separate process, for tests that back up, kill or restore
while the book is busy. Run as `python -m tests.booking_load N` with DATABASE_URL set: it builds
a practice with N free slots, prints `ready`, then books them one by one (each a transaction
through the booking service), printing each appointment id once its transaction has committed,
until the slots run out or it is sent SIGTERM."""

import os
import signal
import sys
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steadfast.settings")


def main(slots: int) -> None:
    import django

    django.setup()
    from django_scopes import scopes_disabled

    from steadfast.appointments.services import book_appointment
    from tests.factories import GPFactory, PatientFactory, SlotFactory, london, tomorrow

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    with scopes_disabled():
        gp = GPFactory()
        patient = PatientFactory(practice=gp.practice)
        free = []
        for n in range(slots):  # a hundred five-minute slots a day, from tomorrow
            start = london(tomorrow() + timedelta(days=n // 100), 8) + timedelta(
                minutes=5 * (n % 100)
            )
            free.append(SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=5)))
        print("ready", flush=True)
        for slot in free:
            if stop:
                break
            print(book_appointment(slot.pk, patient, gp).pk, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
