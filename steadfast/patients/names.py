"""Search keys for names and postcodes, so that `ZOË` finds `Zoe` and `sw1a1aa` finds `SW1A 1AA`."""

import re
import unicodedata

UK_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9]|[ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def name_key(value: str) -> str:
    """Lower case, accents stripped, letters only: the form names are indexed and searched by."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if c.isalpha() and c.isascii()).casefold()


def postcode_key(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def format_postcode(value: str) -> str | None:
    """`SW1A 1AA` for a valid UK postcode in any spacing or case, otherwise None."""
    key = postcode_key(value)
    if not UK_POSTCODE.match(key):
        return None
    return f"{key[:-3]} {key[-3:]}"


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """Bounds [low, high) matching every key (a-z only) that starts with `prefix`.

    Used instead of LIKE so the same btree index serves SQLite and PostgreSQL. The upper bound
    steps the last letter up (carrying past z) so it holds under any collation.
    """
    stem = prefix.rstrip("z")
    if not stem:
        return prefix, None
    return prefix, stem[:-1] + chr(ord(stem[-1]) + 1)
