"""The synthetic demonstration practice loaded by `steadfast demo`.

Everything here is made up: names and addresses from Faker (en_GB), NHS numbers from the 999
test range, phone numbers from Ofcom's drama ranges. The same seed gives the same practice.
"""

import os
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled
from faker import Faker

from steadfast.accounts.models import Role
from steadfast.accounts.queries import readable_secret
from steadfast.appointments.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Slot,
    SlotStatus,
)
from steadfast.appointments.services import generate_slots
from steadfast.continuity import services as continuity
from steadfast.patients.models import Patient, RegistrationStatus, Sex
from steadfast.patients.names import format_postcode
from steadfast.patients.nhs_numbers import synthetic_nhs_numbers
from steadfast.practices.models import (
    DeliveryMode,
    OpeningHours,
    Practice,
    ReservedFor,
    SessionTemplate,
    SlotType,
)
from steadfast.records.demo import load_histories

DEMO_ODS_CODE = "Y99999"
LOGIN_USERS = {
    "demo-reception": Role.RECEPTIONIST,
    "demo-gp": Role.GP,
    "demo-nurse": Role.NURSE,
    "demo-manager": Role.PRACTICE_MANAGER,
}
PAST_BOOKED_SHARE = 0.70
DNA_RATE = 0.05  # NHS Digital reports about 4-5% of GP appointments as did-not-attend


class NotADemoDatabase(Exception):
    pass


@dataclass
class DemoSummary:
    patients: int
    clinicians: int
    slots: int
    appointments: int


def password_file():
    return settings.VAR_DIR / "demo-password"


def demo_password() -> str | None:
    """The demo logins' password: $STEADFAST_DEMO_PASSWORD, else the one generated at load."""
    if env := os.environ.get("STEADFAST_DEMO_PASSWORD"):
        return env
    path = password_file()
    return path.read_text().strip() if path.exists() else None


def demo_practice() -> Practice | None:
    return Practice.objects.filter(is_demo=True).first()


def refuse_unless_demo_database() -> None:
    User = get_user_model()
    if (
        Practice.objects.filter(is_demo=False).exists()
        or Patient.objects.exclude(practice__is_demo=True).exists()
        or User.objects.exclude(practice__is_demo=True).exists()
    ):
        raise NotADemoDatabase(
            "This database holds data that is not the demo practice's; "
            "steadfast demo only loads into an empty or demo-only database."
        )


@scopes_disabled()
def load_demo(
    patients: int = 10_000, seed: int = 1, weeks: int = 4, histories: bool = True
) -> DemoSummary:
    refuse_unless_demo_database()
    rng = random.Random(seed)
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    today = timezone.localdate()
    with transaction.atomic():
        practice = _practice(fake)
        staff = _staff(practice, fake)
        _rota(practice, staff["clinicians"])
    generate_slots(practice, today - timedelta(weeks=weeks), today + timedelta(weeks=weeks))
    with transaction.atomic():
        patient_ids = _patients(practice, staff["gps"], fake, rng, patients, today)
        booked = _appointments(practice, staff["reception"], patient_ids, rng)
        if histories:
            _record_histories(practice, staff["clinicians"], rng)
    return DemoSummary(
        patients=len(patient_ids),
        clinicians=len(staff["clinicians"]),
        slots=Slot.objects.filter(practice=practice).count(),
        appointments=booked,
    )


def _practice(fake: Faker) -> Practice:
    practice = Practice.objects.create(
        name="Riverside Medical Practice (demo)",
        ods_code=DEMO_ODS_CODE,
        address_line1=fake.street_address(),
        town=fake.city(),
        postcode=format_postcode(fake.postcode()),
        phone=fake.phone_number(),
        is_demo=True,
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(practice=practice, weekday=d, opens=time(8), closes=time(18, 30))
        for d in range(5)
    )
    return practice


def _staff(practice: Practice, fake: Faker) -> dict:
    User = get_user_model()
    password = os.environ.get("STEADFAST_DEMO_PASSWORD")
    if not password:
        password = secrets.token_urlsafe(12)
        password_file().parent.mkdir(parents=True, exist_ok=True)
        password_file().write_text(password)
        password_file().chmod(0o600)
    people = [
        ("demo-gp", Role.GP, "Dr"),
        ("demo-gp-2", Role.GP, "Dr"),
        ("demo-gp-3", Role.GP, "Dr"),
        ("demo-gp-4", Role.GP, "Dr"),
        ("demo-gp-5", Role.GP, "Dr"),
        ("demo-nurse", Role.NURSE, "Nurse"),
        ("demo-nurse-2", Role.NURSE, "Nurse"),
        ("demo-hca", Role.HCA, ""),
        ("demo-reception", Role.RECEPTIONIST, ""),
        ("demo-manager", Role.PRACTICE_MANAGER, ""),
    ]
    users = {}
    for username, role, title in people:
        user = User(
            username=username,
            role=role,
            title=title,
            practice=practice,
            first_name=fake.first_name(),
            last_name=fake.last_name(),
        )
        if username in LOGIN_USERS:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        users[username] = user
    clinicians = [u for u in users.values() if u.role in (Role.GP, Role.NURSE, Role.HCA)]
    return {
        "clinicians": clinicians,
        "gps": [u for u in clinicians if u.role == Role.GP],
        "reception": users["demo-reception"],
    }


def _rota(practice: Practice, clinicians: list) -> None:
    def session(clinician, weekday, start, end, minutes, slot_type, **extra):
        return SessionTemplate(
            practice=practice,
            clinician=clinician,
            weekday=weekday,
            start_time=start,
            end_time=end,
            slot_minutes=minutes,
            slot_type=slot_type,
            **extra,
        )

    templates = []
    for i, c in enumerate(clinicians):
        for weekday in range(5):
            if c.role == Role.GP:
                templates.append(
                    session(
                        c,
                        weekday,
                        time(8),
                        time(8, 30),
                        10,
                        SlotType.URGENT,
                        release_time=time(8),
                        reserved_for=ReservedFor.URGENT,
                    )
                )
                templates.append(
                    session(c, weekday, time(8, 30), time(11, 30), 10, SlotType.ROUTINE)
                )
                if weekday == i % 5:
                    templates.append(
                        session(
                            c,
                            weekday,
                            time(12),
                            time(13),
                            10,
                            SlotType.ROUTINE,
                            delivery_mode=DeliveryMode.TELEPHONE,
                        )
                    )
                    continue  # a half day off in the afternoon
                templates.append(
                    session(
                        c,
                        weekday,
                        time(14),
                        time(14, 30),
                        10,
                        SlotType.ROUTINE,
                        reserved_for=ReservedFor.ONLINE,
                    )
                )
                templates.append(
                    session(c, weekday, time(14, 30), time(17, 30), 10, SlotType.ROUTINE)
                )
            elif c.role == Role.NURSE:
                templates.append(
                    session(c, weekday, time(8, 30), time(12, 30), 15, SlotType.REVIEW)
                )
                templates.append(
                    session(c, weekday, time(13, 30), time(17), 15, SlotType.IMMUNISATION)
                )
            else:
                templates.append(session(c, weekday, time(8), time(11), 10, SlotType.BLOODS))
    SessionTemplate.objects.bulk_create(templates)


def _birth_date(rng: random.Random, today: date) -> date:
    age = min(int(rng.triangular(0, 100, 40)), 99)
    return today - timedelta(days=age * 365 + rng.randrange(365))


def _patients(practice, gps, fake: Faker, rng: random.Random, count: int, today: date) -> list:
    numbers = synthetic_nhs_numbers(start=rng.randrange(0, 500_000))
    rows = []
    for _ in range(count):
        sex = rng.choices([Sex.FEMALE, Sex.MALE, Sex.OTHER], weights=[50, 49, 1])[0]
        given = fake.first_name_female() if sex == Sex.FEMALE else fake.first_name_male()
        dob = _birth_date(rng, today)
        registered = dob + timedelta(days=rng.randrange(max(1, (today - dob).days)))
        patient = Patient(
            practice=practice,
            nhs_number=next(numbers),
            title=("Ms" if sex == Sex.FEMALE else "Mr") if today.year - dob.year >= 18 else "",
            given_name=given,
            family_name=fake.last_name(),
            date_of_birth=dob,
            sex=sex,
            address_line1=fake.street_address().replace("\n", ", "),
            town=fake.city(),
            postcode=format_postcode(fake.postcode()),
            phone=fake.phone_number(),
            email="" if rng.random() < 0.4 else fake.free_email(),
            registration_status=RegistrationStatus.REGISTERED,
            registered_on=registered,
            usual_gp=rng.choice(gps),
        )
        patient.refresh_search_keys()  # bulk_create skips save()
        rows.append(patient)
    Patient.objects.bulk_create(rows, batch_size=2000)
    return [p.pk for p in rows]


def _appointments(practice, reception, patient_ids: list, rng: random.Random) -> int:
    now = timezone.now()
    today_start = datetime.combine(timezone.localdate(), time.min, tzinfo=now.tzinfo)
    appointments, events, booked_slot_ids = [], [], []
    slots = Slot.objects.filter(practice=practice).order_by("start", "clinician_id")
    reasons = [
        "Cough",
        "Back pain",
        "Medication review",
        "Rash",
        "Blood pressure check",
        "Asthma review",
        "Low mood",
        "Earache",
        "Diabetes review",
        "Knee pain",
        "",
    ]
    for slot in slots.iterator(chunk_size=2000):
        over = slot.end <= now
        if over:
            share = PAST_BOOKED_SHARE
        elif slot.embargoed_until and slot.embargoed_until > now:
            continue  # on-the-day slots stay free until released
        else:
            days_ahead = (slot.start - today_start).days
            share = max(0.15, 0.75 - 0.03 * days_ahead)
        if rng.random() >= share:
            continue
        booked_at = slot.start - timedelta(days=rng.randrange(0, 21), minutes=rng.randrange(600))
        booked_at = min(booked_at, now)
        if over:
            status = (
                AppointmentStatus.DID_NOT_ATTEND
                if rng.random() < DNA_RATE
                else AppointmentStatus.FINISHED
            )
        elif slot.start <= now:
            status = AppointmentStatus.ARRIVED
        else:
            status = AppointmentStatus.BOOKED
        appt = Appointment(
            practice=practice,
            slot=slot,
            patient_id=rng.choice(patient_ids),
            status=status,
            reason=rng.choice(reasons),
            booked_by=reception,
            booked_at=booked_at,
            status_changed_at=slot.end if over else booked_at,
        )
        appointments.append(appt)
        booked_slot_ids.append(slot.pk)
        events.append(
            AppointmentEvent(
                appointment=appt,
                to_status=AppointmentStatus.BOOKED,
                actor=reception,
                occurred_at=booked_at,
            )
        )
        if status != AppointmentStatus.BOOKED:
            events.append(
                AppointmentEvent(
                    appointment=appt,
                    from_status=AppointmentStatus.BOOKED,
                    to_status=status,
                    actor_id=slot.clinician_id if over else reception.pk,
                    occurred_at=slot.end if over else slot.start,
                )
            )
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    AppointmentEvent.objects.bulk_create(events, batch_size=2000)
    for i in range(0, len(booked_slot_ids), 900):
        Slot.objects.filter(pk__in=booked_slot_ids[i : i + 900]).update(status=SlotStatus.BOOKED)
    return len(appointments)


def _record_histories(practice, clinicians: list, rng: random.Random) -> dict:
    """Clinical histories (steadfast/records/demo.py): conditions, medicines, observations."""
    staff = {
        "gps": [u for u in clinicians if u.role == Role.GP],
        "nurses": [u for u in clinicians if u.role == Role.NURSE],
    }
    patients = Patient.objects.filter(practice=practice).only(
        "id", "date_of_birth", "sex", "usual_gp_id"
    )
    return load_histories(practice, staff, list(patients), rng)


def downtime_passphrase_file():
    return settings.VAR_DIR / "demo-downtime-passphrase"


def set_demo_downtime_passphrase() -> str:
    """Give the demo practice a downtime passphrase (derived from SECRET_KEY, so the same on
    every reload of this install) and leave it in var/ for `make run`'s worker to read."""
    practice = demo_practice()
    passphrase = "demo downtime " + salted_hmac("steadfast.demo.downtime", "pack").hexdigest()[:8]
    try:
        continuity.check_downtime_passphrase(practice, passphrase)
    except continuity.PassphraseProblem:
        continuity.set_demo_downtime_passphrase(practice, passphrase)
    path = downtime_passphrase_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(passphrase + "\n")
    path.chmod(0o600)
    return passphrase


def enrol_demo_authenticators() -> dict[str, str]:
    """Give each demo login whose role needs a second factor a confirmed authenticator app.

    The key is derived from SECRET_KEY, so it stays the same across reloads of this install and
    `steadfast demo` can print it for a tester to type into their app. Returns username: secret.
    """
    secrets_by_username = {}
    users = get_user_model().objects.filter(username__in=LOGIN_USERS, practice__is_demo=True)
    for user in users:
        if not user.needs_second_factor:
            continue
        key = salted_hmac("steadfast.demo.totp", user.username).hexdigest()[:40]
        device, _ = TOTPDevice.objects.update_or_create(
            user=user, name="Demo authenticator", defaults={"key": key, "confirmed": True}
        )
        secrets_by_username[user.username] = readable_secret(device)
    return secrets_by_username
