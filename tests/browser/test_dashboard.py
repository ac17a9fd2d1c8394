"""HQ reads the dashboard on a tablet: charts, coverage, a period change in place, no CSP
violation; the CSV and the PDF download."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from webapp.capture.schemas import ObservationSchema
from webapp.capture.services import record_observation
from webapp.extensions import db
from webapp.models import User

from .conftest import HQ_EMAIL, REP_EMAIL
from .test_capture_flow import TABLET, arrive, open_page, sign_in

pytestmark = pytest.mark.browser


def _calls(app):
    with app.app_context():
        rep = db.session.scalar(db.select(User).where(User.email == REP_EMAIL))
        for days, codes in ((1, ["ACC-PA-002"]), (2, ["ACC-PA-002", "ACC-PA-001"]), (40, ["ACC-PA-001"])):
            at = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
            data = ObservationSchema().load({"id": str(uuid.uuid4()), "hcp": "H1", "barriers": codes,
                                             "observed_at": at, "brand": "ONC"})
            record_observation(rep, data)
        db.session.remove()


def test_hq_reads_the_dashboard_and_takes_it_away(browser, live_server, live_app):
    _calls(live_app)
    with open_page(browser, live_server, TABLET, accept_downloads=True) as (page, errors):
        sign_in(page, HQ_EMAIL, r"/feed$")
        page.get_by_role("link", name="Dashboard").click()
        arrive(page, r"/dashboard$")
        expect(page.locator("#period")).to_contain_text("3 barriers in 2 calls")
        expect(page.locator("#coverage")).to_contain_text("Oncora: effective plays for 0 of 2 barriers seen")
        expect(page.locator("#weekly svg.chart rect.bar").first).to_be_visible()
        expect(page.locator("#rising")).to_contain_text("ACC-PA-002")

        with page.expect_response(lambda r: "/dashboard?" in r.url and r.ok):
            page.locator("select[name=days]").select_option("90")
        expect(page.locator("#period")).to_contain_text("4 barriers in 3 calls")
        assert "days=90" in page.url  # the swap pushed the filtered URL

        with page.expect_download() as download:
            page.get_by_role("link", name="Feed as CSV").click()
        with open(download.value.path(), encoding="utf-8") as handle:
            assert handle.readline().startswith("observation_id,received_at")
        pdf = page.request.get("/dashboard.pdf?days=90")
        try:
            assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
        finally:
            pdf.dispose()
        assert errors == []
