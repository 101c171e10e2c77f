"""The NHS.UK stylesheet's own images (icons in form controls) are served from beside it."""

import re
from pathlib import Path

import pytest

import steadfast

NHSUK = Path(steadfast.__file__).parent / "static" / "vendor" / "nhsuk"


@pytest.mark.skipif(not NHSUK.exists(), reason="NHS.UK assets not fetched (make assets)")
def test_every_image_the_nhsuk_stylesheet_points_at_exists():
    css = (NHSUK / "nhsuk-frontend.min.css").read_text()
    local = [u for u in re.findall(r"url\(([^)]+)\)", css) if not u.startswith(("http", "data:"))]
    assert local, "the stylesheet references its own images"
    assert [u for u in local if u.startswith("/")] == []  # the site root is not where they are
    assert [u for u in local if not (NHSUK / u).is_file()] == []


@pytest.mark.skipif(not NHSUK.exists(), reason="NHS.UK assets not fetched (make assets)")
def test_the_nhsuk_stylesheet_loads_nothing_from_another_host():
    """In an outage the NHS.UK font host may be the first thing to go; no page may wait on it."""
    css = (NHSUK / "nhsuk-frontend.min.css").read_text()
    urls = re.findall(r"url\(\s*['\"]?([^)'\"]+)", css)
    assert [u for u in urls if re.match(r"^([a-z]+:)?//", u, re.IGNORECASE)] == []
    assert "@import" not in css
    assert "font-family:arial,sans-serif" in css  # the frontend's own fallback stack
