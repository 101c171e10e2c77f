"""How dates, times, quantities and NHS numbers read on screen."""

from datetime import UTC, date, datetime

from steadfast.jinja import counted, uk_date, uk_time
from steadfast.patients.names import format_postcode, name_key
from steadfast.patients.nhs_numbers import format_nhs_number, normalise_nhs_number


def test_dates_read_the_uk_way():
    assert uk_date(date(2026, 11, 24)) == "24 Nov 2026"
    assert uk_date(date(2026, 3, 1)) == "1 Mar 2026"


def test_times_show_london_clock_time_for_utc_instants():
    assert uk_time(datetime(2026, 7, 1, 8, 0, tzinfo=UTC)) == "09:00"  # BST
    assert uk_time(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)) == "08:00"  # GMT
    assert uk_date(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == "2 Jul 2026"


def test_nhs_numbers_are_checked_and_grouped_3_3_4():
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert normalise_nhs_number("943-476-5919") == "9434765919"
    assert normalise_nhs_number("9434765918") is None  # wrong check digit
    assert normalise_nhs_number("94347659") is None
    assert format_nhs_number("9434765919") == "943 476 5919"


def test_postcodes_are_validated_and_spaced():
    assert format_postcode("sw1a1aa") == "SW1A 1AA"
    assert format_postcode(" LS1  4AP ") == "LS1 4AP"
    assert format_postcode("LS1") is None
    assert format_postcode("QQ1 1QQ") is None


def test_name_keys_ignore_case_accents_and_punctuation():
    assert name_key("Zoë") == name_key("ZOE") == "zoe"
    assert name_key("O'Brien") == "obrien"
    assert name_key("José-María") == "josemaria"


def test_quantities_read_as_people_write_them():
    assert counted(56, "tablet") == "56 tablets"
    assert counted(1, "capsule") == "1 capsule"
    assert counted(100, "ml") == "100 ml"
