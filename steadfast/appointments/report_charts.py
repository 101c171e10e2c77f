"""The reports page's chart: appointments per week as SVG bars stacked by mode, drawn here (no
script, prints as drawn); the same figures are in the table beside it."""

from django.utils.html import escape
from markupsafe import Markup

from steadfast.appointments.reports import MODES, Report
from steadfast.jinja import uk_date

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 34
# NHS.UK colours with text contrast on white; each mode also has its own pattern of position.
MODE_COLOURS = {
    "face_to_face": "#005eb8",
    "telephone": "#007f3b",
    "video": "#330072",
    "home_visit": "#ed8b00",
}


def weekly_bars(report: Report) -> Markup:
    peak = max((f.total for _, f in report.weeks), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(report.weeks))
    bar = max(1.0, step * 0.8)
    first, last = uk_date(report.first_week), uk_date(report.last_week)
    parts = [
        f'<svg class="sf-chart sf-chart--wide" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="weekly-title weekly-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="weekly-title">Appointments per week, by mode</title>',
        f'<desc id="weekly-desc">{len(report.weeks)} weeks from {first} to {last}; '
        f"the busiest week had {peak}. The table below gives each week's figures.</desc>",
        f'<line class="sf-chart__grid" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<text class="sf-chart__label" x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">'
        f"{peak}</text>",
        f'<text class="sf-chart__label" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">'
        "0</text>",
    ]
    for i, (week, figures) in enumerate(report.weeks):
        x, y = LEFT + i * step, TOP + plot_h
        for mode in MODES:
            count = figures.mode[mode]
            if not count:
                continue
            h = count / peak * plot_h
            y -= h
            label = escape(f"Week of {uk_date(week)}: {count} {MODES[mode].lower()}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{MODE_COLOURS[mode]}"><title>{label}</title></rect>'
            )
    for i, (week, _) in enumerate(report.weeks):
        if i % max(1, len(report.weeks) // 6) == 0:
            parts.append(
                f'<text class="sf-chart__label" x="{LEFT + i * step:.1f}" y="{HEIGHT - 12}">'
                f"{escape(uk_date(week)[:-5])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
