"""SNOMED CT identifier checks: Verhoeff check digit and partition.

dm+d VPIDs are SNOMED CT concept ids too, so the same checks apply to them.
"""

import re

# Verhoeff's dihedral group D5 multiplication table (SNOMED CT identifier specification).
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
# Permutation table: row i applies the base permutation i times (row i = row i-1 after row 1).
_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_P: list[tuple[int, ...]] = [tuple(range(10)), _P1]
for _ in range(6):
    _P.append(tuple(_P[-1][_P1[digit]] for digit in range(10)))

_SCTID = re.compile(r"[1-9][0-9]{5,17}")

# Partition identifiers (the two digits before the check digit) of concept ids.
CONCEPT_PARTITIONS = frozenset({"00", "10"})  # 00: core concept, 10: extension concept


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit of `digits` is the Verhoeff check digit of the rest."""
    checksum = 0
    for position, digit in enumerate(reversed(digits)):
        checksum = _D[checksum][_P[position % 8][int(digit)]]
    return checksum == 0


def partition(sctid: str) -> str:
    """The partition identifier of a SNOMED CT id (e.g. '00' for a core concept)."""
    return sctid[-3:-1]


def is_concept_id(value: str) -> bool:
    """True for a well-formed SNOMED CT concept id (core or extension), check digit included."""
    return (
        _SCTID.fullmatch(value) is not None
        and partition(value) in CONCEPT_PARTITIONS
        and verhoeff_valid(value)
    )
