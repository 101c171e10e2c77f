"""Observation trends as inline SVG: no script, prints as drawn, with a text table beside it."""

from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape
from markupsafe import Markup

from steadfast.records.observations import ObservationType

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28


def _scale(lo: float, hi: float, pixels_lo: float, pixels_hi: float):
    span = hi - lo or 1.0
    return lambda v: pixels_lo + (float(v) - lo) / span * (pixels_hi - pixels_lo)


def trend_svg(t: ObservationType, rows: list) -> Markup:
    """A line chart of a series (oldest first); the reference range shaded; title and desc set."""
    values = [float(r.value) for r in rows if r.value is not None]
    values += [float(r.value2) for r in rows if r.value2 is not None]
    if not values:
        return Markup("")
    bounds = [float(b) for b in (t.low, t.high, t.low2, t.high2) if b is not None]
    lo, hi = min(values + bounds), max(values + bounds)
    pad = (hi - lo) * 0.08 or 1.0
    lo, hi = lo - pad, hi + pad
    times = [r.occurred_at.timestamp() for r in rows]
    t0, t1 = min(times), max(times)
    if t0 == t1:
        t0, t1 = t0 - 86400, t1 + 86400
    x = _scale(t0, t1, LEFT, WIDTH - RIGHT)
    y = _scale(lo, hi, HEIGHT - BOTTOM, TOP)
    parts = [
        f'<svg class="sf-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-{t.kind}-title chart-{t.kind}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-{t.kind}-title">{escape(t.label)} trend ({escape(t.unit)})</title>',
        f'<desc id="chart-{t.kind}-desc">{len(rows)} readings from '
        f"{_date(rows[0])} to {_date(rows[-1])}; the table below lists them.</desc>",
    ]
    for low, high in ((t.low, t.high), (t.low2, t.high2)):
        if low is None and high is None:
            continue
        top = y(float(high) if high is not None else hi)
        bottom = y(float(low) if low is not None else lo)
        parts.append(
            f'<rect class="sf-chart__range" x="{LEFT}" y="{top:.1f}" '
            f'width="{WIDTH - LEFT - RIGHT}" height="{bottom - top:.1f}"/>'
        )
    for tick in _ticks(lo, hi):
        parts.append(
            f'<line class="sf-chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="sf-chart__label" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick:g}</text>'
        )
    parts.append(
        f'<text class="sf-chart__label" x="{LEFT}" y="{HEIGHT - 8}">{_date(rows[0])}</text>'
        f'<text class="sf-chart__label" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" '
        f'text-anchor="end">{_date(rows[-1])}</text>'
    )
    for attr, css in (("value", "sf-chart__line"), ("value2", "sf-chart__line sf-chart__line--2")):
        points = [
            (x(r.occurred_at.timestamp()), y(getattr(r, attr)))
            for r in rows
            if getattr(r, attr) is not None
        ]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline class="{css}" points="{path}"/>')
        if len(points) <= 60:
            parts += [
                f'<circle class="{css}" cx="{px:.1f}" cy="{py:.1f}" r="3"/>' for px, py in points
            ]
    parts.append("</svg>")
    return Markup("".join(parts))


def _date(row) -> str:
    d = timezone.localtime(row.occurred_at)
    return f"{d.day} {d:%b %Y}"


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    raw = (hi - lo) / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    step = max(Decimal(str(round(raw / magnitude) or 1)) * Decimal(str(magnitude)), Decimal("0.1"))
    first = (Decimal(str(lo)) / step).to_integral_value() * step
    ticks, v = [], first
    while v <= Decimal(str(hi)):
        if v >= Decimal(str(lo)):
            ticks.append(float(v))
        v += step
    return ticks
