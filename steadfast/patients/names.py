"""Names and postcodes: search keys (so that `ZOË` finds `Zoe` and `sw1a1aa` finds `SW1A 1AA`)
and the check that a person's name holds only what can be seen."""

import re
import unicodedata

from django.core.exceptions import ValidationError

UK_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9]|[ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def name_key(value: str) -> str:
    """Lower case, accents stripped, letters only: the form names are indexed and searched by."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if c.isalpha() and c.isascii()).casefold()


def listing_name(family_name: str, given_name: str, title: str = "") -> str:
    """`SMITH, John (Mr)`: the order clinical systems list patients in."""
    shown_title = f" ({title})" if title else ""
    return f"{family_name.upper()}, {given_name}{shown_title}"


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


# Joiners some scripts need inside words (Persian, Indic): invisible, but part of the spelling.
_WORD_JOINERS = frozenset({"\u200c", "\u200d"})
# Control (tabs, new lines, escapes), format (bidi overrides and isolates, zero-width spaces),
# line and paragraph separators, surrogates, private use, unassigned.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def hidden_characters(value: str) -> list[str]:
    """The characters in `value` that a reader cannot see, as U+XXXX codes."""
    return [
        f"U+{ord(c):04X}"
        for c in value
        if unicodedata.category(c) in _HIDDEN_CATEGORIES and c not in _WORD_JOINERS
    ]


def validate_visible_name(value: str) -> None:
    """Refuse a name holding control characters or text-direction overrides: printed on a
    letter, a label or a screen it would read differently from what was stored (or what the
    next system that receives it sees), so the same person could be two people."""
    if found := hidden_characters(value):
        raise ValidationError(
            "Type the name again rather than pasting it: it contains hidden control or"
            f" text-direction characters ({', '.join(dict.fromkeys(found))})",
            code="hidden_characters",
        )
