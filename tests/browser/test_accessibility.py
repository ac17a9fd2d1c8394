"""axe-core (4.12, bundled by axe-playwright-python) finds no WCAG 2.2 A/AA violation on the
pages people use: sign-in, capture with its play, outbox and offline shells for the rep; the
feed and the dashboard for HQ; on a phone and a tablet."""


import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import HQ_EMAIL, REP_EMAIL
from .test_capture_flow import PHONE, TABLET, arrive, open_page, option_for, sign_in

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag",
                    "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
        "resultTypes": ["violations"]}
AXE = Axe()


def assert_accessible(page, what):
    results = AXE.run(page, options=WCAG)
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
    ]
    assert found == [], f"{what}: " + "\n".join(found)


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_rep_pages_have_no_accessibility_violations(browser, live_server, viewport):
    with open_page(browser, live_server, viewport) as (page, errors):
        page.goto("/login")
        assert_accessible(page, "/login")
        sign_in(page, REP_EMAIL, r"/capture$")
        assert_accessible(page, "/capture")
        page.goto("/capture?hcp=H1")
        assert_accessible(page, "/capture?hcp=H1")
        option_for(page, "ACC-PA-001").click()
        page.get_by_role("button", name="Log and get the play").click()
        expect(page.locator("article.play").first).to_be_visible()
        assert_accessible(page, "the play after logging")
        for path in ("/outbox", "/offline/capture"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            assert_accessible(page, path)
        assert errors == []


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_hq_pages_have_no_accessibility_violations(browser, live_server, viewport):
    with open_page(browser, live_server, viewport) as (page, errors):
        sign_in(page, HQ_EMAIL, r"/feed$")
        assert_accessible(page, "/feed")
        page.goto("/dashboard")
        arrive(page, r"/dashboard$")
        assert_accessible(page, "/dashboard")
        assert errors == []
