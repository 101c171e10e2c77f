"""NHS numbers: validation and display, on top of the maintained `nhs-number` library."""

import nhs_number


def normalise_nhs_number(value: str) -> str | None:
    """The ten digits of a valid NHS number, or None if it is not one (wrong length or check)."""
    digits = nhs_number.standardise_format(value.replace(" ", "").replace("-", "") if value else "")
    return digits if digits and nhs_number.is_valid(digits) else None


def format_nhs_number(value: str | None) -> str:
    """`943 476 5919`: the 3-3-4 grouping staff read aloud and patients recognise."""
    if not value:
        return ""
    return f"{value[:3]} {value[3:6]} {value[6:]}"


def synthetic_nhs_numbers(start: int = 0):
    """Valid NHS numbers from the 999 test range, in order: never a real person's number."""
    base = 999_000_000 + start
    while base <= 999_999_999:
        digits = str(base)
        check = nhs_number.calculate_checksum(digits)
        if check is not None and check < 10:
            yield f"{digits}{check}"
        base += 1
