"""Checks on every page a browser test loads: accessibility, and markup shown as text.

Each page, once parsed, hands its HTML to the test. When the test ends, every page it saw is
loaded again from that HTML, at its own address on the live server (so its stylesheets and
scripts load as they did), and checked there, where no test is hurrying on to the next page:
axe-core's WCAG 2.2 AA rules with no serious or critical violation, and no HTML tag showing as
text (`<br>` escaped where markup was meant). axe-core comes from the npm registry with its
integrity recorded in requirements/npm-integrity.txt (`make test-assets`); the application never
serves it.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext

AXE_CORE = "4.14.1"
AXE_JS = Path(__file__).resolve().parents[2] / "var" / "test-assets" / f"axe-core-{AXE_CORE}.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

SEND_PAGE = """
document.addEventListener("DOMContentLoaded", () => {
  if (location.protocol.startsWith("http") && window === window.top) {
    window.__sfPage(location.href, document.documentElement.outerHTML);
  }
});
"""

CHECK = """async (tags) => {
  const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]};
  const result = await axe.run(document, options);
  const violations = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}));
  const tag = /<\\/?(a|br|p|span|strong|em|ul|li|div|td|tr)\\b[^<>]*>/gi;
  return {violations, shownMarkup: document.body.innerText.match(tag) || []};
}"""


@dataclass
class PageChecks:
    """The pages loaded in `context`, checked by `check()` when the test is done."""

    context: BrowserContext
    pages: dict = field(default_factory=dict)

    def __post_init__(self):
        self.context.expose_function("__sfPage", self._keep)
        self.context.add_init_script(SEND_PAGE)

    def _keep(self, url: str, html: str) -> None:
        # The same page seen twice (or differing only in its CSRF token) is checked once.
        key = hashlib.sha256(html.encode()).hexdigest()
        self.pages.setdefault(key, (url, html))

    def check(self, browser: Browser, base_url: str) -> None:
        assert self.pages, "No page reached the checks"
        context = browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 1000})
        context.add_init_script(path=AXE_JS)
        problems = []
        page = context.new_page()
        for url, html in self.pages.values():
            page.route(_exactly(url), _answer_with(html))
            page.goto(url)
            report = page.evaluate(CHECK, WCAG_22_AA)
            page.unroute_all()
            if report["violations"] or report["shownMarkup"]:
                problems.append({"url": url, **report})
        context.close()
        failing = json.dumps(problems, indent=1)
        assert not problems, f"Pages failing the checks:\n{failing}"


def _exactly(url: str):
    return lambda candidate: candidate == url


def _answer_with(html: str):
    return lambda route, request: route.fulfill(body=html, content_type="text/html")
