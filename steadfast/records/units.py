"""Converting a received measurement to the unit the record keeps, with UCUM.

Units are UCUM codes (what FHIR Quantity.code carries); `ucumvert` parses them into `pint`
units, which do the arithmetic (including offsets such as degrees Fahrenheit to Celsius).
"""

from decimal import Decimal
from functools import lru_cache

import pint
from lark.exceptions import LarkError


class UnitMismatch(ValueError):
    """The unit is not UCUM, or measures something else than the unit wanted."""


@lru_cache(maxsize=1)
def _registry():
    from ucumvert import PintUcumRegistry  # parsing its grammar takes a moment: only when used

    return PintUcumRegistry()


def convert(value: Decimal | float | int, from_code: str, to_code: str) -> Decimal:
    """`value` in UCUM unit `from_code` as a Decimal in `to_code`, to two decimal places."""
    if from_code == to_code:
        return Decimal(str(value))
    registry = _registry()
    try:
        quantity = registry.Quantity(float(value), registry.from_ucum(from_code))
        converted = quantity.to(registry.from_ucum(to_code)).magnitude
    except (LarkError, pint.errors.PintError, pint.errors.DimensionalityError) as exc:
        raise UnitMismatch(f"{from_code!r} cannot be converted to {to_code!r}") from exc
    return Decimal(str(converted)).quantize(Decimal("0.01"))
