"""The day's lists as PDF (WeasyPrint): the paper copy a practice prints at 07:45, so it has them
if the system goes down at 08:00. One page per clinician, or the arrivals list; A4."""

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML


def lists_pdf(**content) -> bytes:
    return HTML(string=lists_html(**content)).write_pdf()


def lists_html(*, title: str, day, practice, lists=None, arrivals=None) -> str:
    """`lists`: a page per clinician (PrintedList); `arrivals`: one list of the day's patients."""
    return render_to_string(
        "appointments/print_lists.jinja",
        {
            "title": title,
            "day": day,
            "practice": practice,
            "lists": lists or [],
            "arrivals": arrivals,
            "printed_at": timezone.localtime(),
        },
    )
