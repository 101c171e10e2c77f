"""The paper fallback: the pack's lists and summaries as a PDF (WeasyPrint), to print at once.

One page per clinician's day list, one page per booked patient's summary, black on white. The PDF
is not encrypted (WeasyPrint cannot), so it is written only when asked for (`--pdf`).
"""

from django.template.loader import render_to_string
from weasyprint import HTML

from steadfast.continuity.queries import PackContents
from steadfast.continuity.rendering import made_label


def pack_pdf_html(contents: PackContents) -> str:
    register = contents.register
    return render_to_string(
        "continuity/pack_pdf.jinja",
        {
            "practice": contents.practice,
            "made_label": made_label(contents.made_at),
            "days": contents.days,
            "register": register,
            "summaries": [(s, register[s["patient"]]) for s in contents.summaries],
        },
    )


def render_pdf(contents: PackContents) -> bytes:
    return HTML(string=pack_pdf_html(contents)).write_pdf()
