"""A rep hands a reimbursement play to the FRM, who runs it and says it worked; HQ sees the
time to play and the success rate move."""


import pytest
from playwright.sync_api import expect

from .conftest import FRM_EMAIL, HCPS, HQ_EMAIL, REP_EMAIL
from .test_capture_flow import TABLET, arrive, open_page, option_for, sign_in, sign_out

pytestmark = pytest.mark.browser

FRM_PLAY = "ACC-APL-001"  # "Office gives up after the first denial": FRM and PAL only


def test_rep_hands_a_play_to_the_frm_who_runs_it_and_hq_sees_the_metrics(browser, live_server):
    hcp_name = HCPS["H1"][0]
    with open_page(browser, live_server, TABLET) as (page, errors):
        sign_in(page, REP_EMAIL, r"/capture$")
        page.goto("/capture?hcp=H1")
        # Let the filtered list land before tapping: a swap under a tap moves the buttons.
        with page.expect_response(lambda r: "/capture/barriers" in r.url and r.ok):
            page.locator("#q").fill("first denial")
        option = option_for(page, FRM_PLAY)
        option.tap()
        expect(option.locator("input")).to_be_checked()
        page.get_by_role("button", name="Log and get the play").tap()
        arrive(page, r"/observations/")
        call = page.url
        card = page.locator(f"#play-{FRM_PLAY}")
        expect(card).to_contain_text("hand this to your Field reimbursement manager")
        expect(card.get_by_role("button", name="I ran the play")).to_have_count(0)
        card.get_by_role("button", name="Hand to the Field reimbursement manager").tap()
        expect(page.locator(f"#play-{FRM_PLAY}")).to_contain_text(
            "Handed to Field reimbursement manager")
        sign_out(page)

        sign_in(page, FRM_EMAIL, r"/capture$")
        page.get_by_role("link", name="My queue").click()
        item = page.locator("#handoffs li.feed-item").filter(has_text=hcp_name)
        expect(item).to_have_count(1)
        item.get_by_role("button", name="Accept").tap()
        item = page.locator("#handoffs li.feed-item").filter(has_text=hcp_name)
        expect(item).to_contain_text("accepted")
        item.get_by_role("button", name="I ran the play").tap()
        expect(page.locator("#handoffs li.feed-item").filter(has_text=hcp_name)).to_have_count(0)
        page.goto(call)
        card = page.locator(f"#play-{FRM_PLAY}")
        expect(card).to_contain_text("Ran by Fran Reimb")
        card.get_by_role("button", name="Resolved", exact=True).tap()
        expect(page.locator(f"#play-{FRM_PLAY}")).to_contain_text("outcome: resolved")
        sign_out(page)

        sign_in(page, REP_EMAIL, r"/capture$")
        page.goto(call)
        expect(page.locator(f"#play-{FRM_PLAY}")).to_contain_text("Ran by Fran Reimb")
        sign_out(page)

        sign_in(page, HQ_EMAIL, r"/feed$")
        page.goto("/metrics?by=role")
        expect(page.locator("#time-to-play")).to_contain_text("frm")
        expect(page.locator("#success")).to_contain_text("100% (1 of 1)")
        assert errors == []
