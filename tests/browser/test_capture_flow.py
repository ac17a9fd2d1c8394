"""A sales rep logs a call on a tablet in a few taps; HQ sees it in the insight feed."""

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import Barrier

from .conftest import HCPS, HQ_EMAIL, PASSWORD, REP_EMAIL

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# The README's screenshot is copied from here by hand: tests never write tracked files.
PICKER_SCREENSHOT = ARTIFACTS / "capture-picker.png"
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
MIN_TOUCH = 44  # px: the smallest comfortable touch target
FILTERED_BARRIER = "ACC-PA-001"  # "Prior authorization rejected...", has a leave-behind


@contextmanager
def open_page(browser, base_url, viewport, **options):
    """A fresh context and page that records console errors and uncaught page errors."""
    context = browser.new_context(base_url=base_url, viewport=viewport, has_touch=True,
                                  **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []

    def on_console(msg):
        # Every console error counts, CSP violations included.
        if msg.type == "error":
            errors.append(f"console: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    try:
        yield page, errors
    finally:
        context.close()


def arrive(page, url: str):
    """Wait for the page to reach `url` (a pattern), then for htmx to have settled it. A
    boosted link swaps the body and pushes the URL before htmx processes the new content
    (its settle delay, 20 ms): an input typed into meanwhile triggers nothing (seen on a fast
    machine as a search that never asked the server)."""
    page.wait_for_url(re.compile(url))
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bhtmx-(swapping|settling)\b"))


def sign_in(page, email, landing):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/login")
                              and r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    try:
        arrive(page, landing)
        return
    except PlaywrightTimeoutError:
        pass
    pytest.fail(
        f"signing in as {email} answered {posted.value.status} and stayed on {page.url} "
        f"instead of {landing!r}; the page says: {page.locator('main').inner_text()!r}",
        pytrace=False,
    )


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    arrive(page, r"/login$")
    expect(page.locator("#email")).to_be_visible()


def option_for(page, code):
    return page.locator("label.option").filter(has=page.locator(f"input[value='{code}']"))


def may_run(app, code, role):
    with app.app_context():
        barrier = db.session.scalar(db.select(Barrier).where(Barrier.code == code))
        assert barrier is not None, code
        result = barrier.may_be_run_by(role)
        db.session.remove()
        return result


def assert_touch_targets(page):
    options = [o for o in page.locator("label.option").all() if o.is_visible()]
    assert options, "the barrier picker shows no options"
    for option in options:
        box = option.bounding_box()
        assert box and box["height"] >= MIN_TOUCH, (option.inner_text(), box)
    submit = page.get_by_role("button", name="Log and get the play")
    box = submit.bounding_box()
    assert box and box["height"] >= MIN_TOUCH, box


def assert_play(page, code, may_run_it):
    expect(page.locator(".notice")).to_contain_text("Logged 1 barrier")
    play = page.locator(f"article.play#play-{code}")
    expect(play).to_be_visible()
    for heading in ("Customer goal", "What to know", "Who to tell"):
        expect(play).to_contain_text(heading)
    if may_run_it:
        expect(play.locator(".handoff")).to_have_count(0)
    else:
        expect(play).to_contain_text("hand this to your")
    return play


def test_rep_logs_a_call_on_a_tablet_and_hq_sees_it(browser, live_server, live_app):
    rep_hcp = HCPS["H1"][0]
    with open_page(browser, live_server, TABLET) as (page, errors):
        sign_in(page, REP_EMAIL, r"/capture$")

        # Nobody logged yet: "Recent" is empty.
        results = page.locator("#hcp-results")
        expect(results.locator("h3")).to_have_text("Recent")
        expect(results.locator("a.choice")).to_have_count(0)

        # Active search: part of a name, then the HCP result.
        with page.expect_response(lambda r: "/capture/hcps" in r.url and r.ok):
            page.locator("#hcp_q").press_sequentially("pat")
        expect(results.locator("h3")).to_have_text("Matching HCPs")
        choice = results.locator("a.choice", has_text=rep_hcp)
        expect(choice).to_have_count(1)
        expect(results.locator("a.choice", has_text="Dr Zed Far")).to_have_count(0)
        choice.click()
        arrive(page, r"/capture\?hcp=H1$")
        expect(page.locator(".chosen-hcp")).to_contain_text(rep_hcp)
        expect(page.locator("input[name=barrier]").first).to_be_attached()
        assert page.locator("label.option input[name=barrier]").count() > 0

        # Filter the picker (typing is not a tap), then two taps: the barrier and submit.
        taps = 0
        with page.expect_response(lambda r: "/capture/barriers" in r.url and r.ok):
            page.locator("#q").fill("prior auth")
        expect(page.locator("#barrier-list h3").first).to_have_text("Matching barriers")
        option = option_for(page, FILTERED_BARRIER)
        expect(option).to_be_visible()
        assert_touch_targets(page)
        option.tap()
        taps += 1
        expect(option.locator("input")).to_be_checked()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(PICKER_SCREENSHOT))
        page.get_by_role("button", name="Log and get the play").tap()
        taps += 1
        arrive(page, r"/observations/[^/]+$")
        assert taps <= 3, f"logging a barrier took {taps} taps after choosing the HCP"

        play = assert_play(page, FILTERED_BARRIER, may_run(live_app, FILTERED_BARRIER,
                                                             "sales_rep"))
        link = play.get_by_role("link", name=re.compile(r"^Leave-behind \(PDF\)"))
        expect(link).to_have_count(1)
        href = link.get_attribute("href")
        assert href and "hcp=H1" in href
        pdf = page.request.get(href)
        try:
            assert pdf.status == 200, pdf.status
            assert pdf.headers["content-type"].startswith("application/pdf")
            assert pdf.body().startswith(b"%PDF")
        finally:
            pdf.dispose()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "capture-tablet.png"), full_page=True)

        # Second call, no typing at all: the HCP from "Recent", the first barrier, submit.
        page.get_by_role("link", name="Log another call").click()
        arrive(page, r"/capture$")
        expect(results.locator("h3")).to_have_text("Recent")
        taps = 0
        results.locator("a.choice", has_text=rep_hcp).tap()
        taps += 1
        arrive(page, r"/capture\?hcp=H1$")
        first = page.locator("label.option").filter(
            has=page.locator("input[name=barrier]")).first
        expect(first).to_be_visible()
        assert_touch_targets(page)
        code = first.locator("input[name=barrier]").get_attribute("value")
        first.tap()
        taps += 1
        expect(first.locator("input")).to_be_checked()
        page.get_by_role("button", name="Log and get the play").tap()
        taps += 1
        arrive(page, r"/observations/[^/]+$")
        assert taps <= 3, f"a call from Recent took {taps} taps"
        assert_play(page, code, may_run(live_app, code, "sales_rep"))

        sign_out(page)
        sign_in(page, HQ_EMAIL, r"/feed$")
        page.goto("/feed")
        items = page.locator("#feed-items")
        expect(items).to_contain_text(rep_hcp)
        expect(items.locator("li.feed-item")).to_have_count(2)
        assert errors == []


def test_capture_page_fits_a_phone(browser, live_server):
    with open_page(browser, live_server, PHONE, is_mobile=True) as (page, errors):
        sign_in(page, REP_EMAIL, r"/capture$")
        for path in ("/capture", "/capture?hcp=H2"):
            page.goto(path)
            expect(page.locator("h1")).to_have_text("Log a call")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} scrolls sideways: {width}px wide"
        assert_touch_targets(page)
        assert errors == []
