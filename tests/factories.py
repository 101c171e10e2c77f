"""factory_boy factories: synthetic practices, staff, patients and slots for tests."""

import itertools
from datetime import date, datetime, time, timedelta

import factory
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.accounts.models import Role, User
from steadfast.appointments.models import Slot
from steadfast.patients.models import Patient, Sex
from steadfast.patients.nhs_numbers import synthetic_nhs_numbers
from steadfast.practices.models import Practice, SessionTemplate

_nhs_numbers = synthetic_nhs_numbers(start=900_000)
_ods = itertools.count(10001)
PASSWORD = "correct-horse-battery"  # pragma: allowlist secret


def force_login_verified(client, user) -> None:
    """`client.force_login(user)`, and past the second factor when their role needs one.

    Does for the test client what a correct code does (django_otp.login): records a confirmed
    authenticator of the user's in the session. Tests of the second factor itself log in
    through the pages with real codes instead.
    """
    client.force_login(user)
    if not user.needs_second_factor:
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def current_code(device: TOTPDevice) -> str:
    """The 6 digits the user's authenticator app shows now, computed from the device's key."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Test Practice {n}")
    ods_code = factory.LazyFunction(lambda: f"T{next(_ods) % 100000:05d}")
    address_line1 = "1 High Street"
    town = "Leeds"
    postcode = "LS1 4AP"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    role = Role.RECEPTIONIST
    practice = factory.SubFactory(PracticeFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class GPFactory(UserFactory):
    role = Role.GP
    title = "Dr"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    practice = factory.SubFactory(PracticeFactory)
    nhs_number = factory.LazyFunction(lambda: next(_nhs_numbers))
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = date(1970, 11, 24)
    sex = Sex.FEMALE
    address_line1 = "2 Park Row"
    town = "Leeds"
    postcode = "LS1 5HD"
    registered_on = date(2000, 1, 1)


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot

    clinician = factory.SubFactory(GPFactory)
    practice = factory.SelfAttribute("clinician.practice")
    # Always tomorrow, between 08:00 and 16:15, however many slots a test session makes.
    start = factory.Sequence(lambda n: london(tomorrow(), 8) + timedelta(minutes=5 * (n % 100)))
    end = factory.LazyAttribute(lambda s: s.start + timedelta(minutes=10))


class SessionTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionTemplate

    clinician = factory.SubFactory(GPFactory)
    practice = factory.SelfAttribute("clinician.practice")
    weekday = 0
    start_time = time(9)
    end_time = time(10)
    slot_minutes = 10
