"""Slots kept for one kind of appointment, and the warning when something else goes in one."""

from steadfast.practices.models import SlotType

# A review, a blood test, a dressing or a vaccination slot is sized and staffed for that work
# (a nurse, a longer slot, the fridge); anything else booked into one is worth a second look.
DEDICATED_SLOT_TYPES = frozenset(
    {SlotType.REVIEW, SlotType.BLOODS, SlotType.DRESSING, SlotType.IMMUNISATION}
)


def slot_type_warning(slot) -> str:
    """What reception should check before booking into `slot`, or "" for a general slot."""
    if slot.slot_type not in DEDICATED_SLOT_TYPES:
        return ""
    kind = slot.get_slot_type_display().lower()
    return (
        f"This is a {kind} slot. Book it only for a {kind}; for anything else, choose another slot."
    )
