"""What each cell of the day view shows, worked out in Python for the cell macro to print.

A full day view draws hundreds of cells and reception reloads it all day, so the rules (is the
slot over, not yet released, free to book?) and the strings many cells share (a clinician's name,
a start time, a label, a URL's pattern) are worked out here once a page, not by Jinja calls in
each cell. The Book answer draws its one cell with the same code.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from steadfast.appointments.models import Appointment, Slot, SlotStatus
from steadfast.appointments.queries import BookSlot, DayBook, book_slot
from steadfast.jinja import choice_labels, id_url_maker, slot_description, uk_time
from steadfast.patients.names import listing_name

MODE_ICONS = {"telephone": "☎", "video": "▶", "home_visit": "⌂", "face_to_face": ""}


@dataclass(slots=True)
class Cell:
    """One slot of the day view: `state` is booked, blocked, past, embargoed or free, and
    each state shows only some of the rest."""

    id: UUID
    state: str
    slot_type: str  # its code, for the cell's class
    type_label: str = ""  # past, free
    mode_icon: str = ""  # booked, embargoed, free
    url: str = ""  # booked: the appointment; free: the booking page
    description: str = ""  # booked, free: `Dr A Okafor, 09:00, Routine, Face to face`
    patient: str = ""  # booked: the patient's listing name
    status: str = ""  # booked: the appointment's status code, for the cell's class
    status_label: str = ""  # booked
    reserved: str = ""  # free: who it is kept for (`Online booking`), or nothing
    released: str = ""  # embargoed: when it is released (`10:00`)


class CellMaker:
    """Cells for one page, at `now`, of slots whose clinicians are `clinicians` (by id)."""

    def __init__(self, clinicians: dict, now: datetime):
        self.now = now
        self.names = {pk: c.display_name for pk, c in clinicians.items()}
        self.times: dict[datetime, str] = {}
        self.detail_url = id_url_maker("appointments:detail")
        self.book_url = id_url_maker("appointments:book")
        self.type_labels = choice_labels(Slot, "slot_type")
        self.mode_labels = choice_labels(Slot, "delivery_mode")
        self.reserved_labels = choice_labels(Slot, "reserved_for")
        self.status_labels = choice_labels(Appointment, "status")

    def time(self, at: datetime) -> str:
        if (label := self.times.get(at)) is None:
            label = self.times[at] = uk_time(at)
        return label

    def cell(self, slot: BookSlot) -> Cell:
        if slot.appointment_id:
            return Cell(
                slot.id,
                "booked",
                slot.slot_type,
                mode_icon=MODE_ICONS.get(slot.delivery_mode, ""),
                url=self.detail_url(slot.appointment_id),
                description=self.description(slot),
                patient=listing_name(
                    slot.patient_family_name, slot.patient_given_name, slot.patient_title
                ),
                status=slot.appointment_status,
                status_label=self.status_labels.get(
                    slot.appointment_status, slot.appointment_status
                ),
            )
        if slot.status == SlotStatus.BLOCKED:
            return Cell(slot.id, "blocked", slot.slot_type)
        type_label = self.type_labels.get(slot.slot_type, slot.slot_type)
        if slot.over:
            return Cell(slot.id, "past", slot.slot_type, type_label=type_label)
        icon = MODE_ICONS.get(slot.delivery_mode, "")
        if slot.embargoed_until and slot.embargoed_until > self.now:
            released = self.time(slot.embargoed_until)
            return Cell(slot.id, "embargoed", slot.slot_type, mode_icon=icon, released=released)
        return Cell(
            slot.id,
            "free",
            slot.slot_type,
            type_label=type_label,
            mode_icon=icon,
            url=self.book_url(slot.id),
            description=self.description(slot),
            reserved=(
                self.reserved_labels.get(slot.reserved_for, slot.reserved_for)
                if slot.reserved_for
                else ""
            ),
        )

    def description(self, slot: BookSlot) -> str:
        """What the slot is, as `describe_slot` says it: `Dr A Okafor, 09:00, Routine, Face to
        face`."""
        return slot_description(
            self.names[slot.clinician_id],
            self.time(slot.start),
            self.type_labels.get(slot.slot_type, slot.slot_type),
            self.mode_labels.get(slot.delivery_mode, slot.delivery_mode),
        )


def day_rows(book: DayBook) -> list[tuple[str, list[Cell | None]]]:
    """The day view's rows: a start time and one cell per clinician (None where they have no
    slot then), as the book stood when it was read."""
    maker = CellMaker({c.clinician.pk: c.clinician for c in book.columns}, book.now)
    return [
        (maker.time(at), [None if slot is None else maker.cell(slot) for slot in row])
        for at, row in book.grid()
    ]


def slot_cell_of(slot: Slot, now: datetime) -> Cell:
    """The cell of one Slot (with its clinician and live appointment and patient): the Book
    answer's, drawn in place of the pressed one."""
    return CellMaker({slot.clinician_id: slot.clinician}, now).cell(book_slot(slot, now))
