"""Our notification banner (the Book answer's) draws what the NHS.UK macro draws."""

import re

import pytest
from django.template import engines
from markupsafe import Markup

NHSUK = '{% from "nhsuk/components/notification-banner/macro.jinja" import notificationBanner %}'
OURS = '{% from "includes/banner.jinja" import banner %}'


def rendered(source: str, **context) -> str:
    html = engines["jinja2"].env.from_string(source).render(**context)
    # The NHS.UK macro leaves runs of blank lines and spaces inside its tags; compare the markup.
    return re.sub(r"\s*([<>])\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize(
    ("nhsuk", "ours"),
    [
        (
            '{{ notificationBanner({"titleText": "Not booked", "text": text}) }}',
            '{{ banner("Not booked", text=text) }}',
        ),
        (
            '{{ notificationBanner({"titleText": "Not booked", "text": ""}) }}',
            '{{ banner("Not booked", text="") }}',
        ),
        (
            '{{ notificationBanner({"type": "success", "titleText": "Done", "html": html}) }}',
            '{{ banner("Done", html=html, success=true) }}',
        ),
        (
            '{{ notificationBanner({"titleText": "Check the slot type", "html": html}) }}',
            '{{ banner("Check the slot type", html=html) }}',
        ),
    ],
)
def test_our_banner_is_the_nhsuk_banner(nhsuk, ours):
    context = {
        "text": "That slot is no longer available <b>O'Brien</b>",
        "html": Markup('Booked O&#39;Brien. <a href="/appointments/1/">View the appointment</a>'),
    }

    assert rendered(OURS + ours, **context) == rendered(NHSUK + nhsuk, **context)
