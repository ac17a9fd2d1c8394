"""Browser fixtures: the real app on a live server, and Debian's Chromium through Playwright.

The server runs in a daemon thread on a temporary SQLite *file* (so every request thread sees
the same data) with CSRF protection switched on, exactly as a browser meets it in production.
"""

import os
import threading
from pathlib import Path

import pytest

from webapp import create_app
from webapp.config import TestConfig
from webapp.extensions import db
from webapp.library.services import load_library
from webapp.models import HCP, Brand, Territory, User

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
REP_EMAIL = "rep@browser.test"
HQ_EMAIL = "hq@browser.test"
FRM_EMAIL = "frm@browser.test"
# HCPs in the rep's territory, keyed by external id.
HCPS = {
    "H1": ("Dr Ada Patel", "Oncology", "Harbor Oncology Associates", "evidence seeker"),
    "H2": ("Dr Ben Okafor", "Hematology", "Riverside Blood Center", "early adopter"),
}


def require_chromium() -> None:
    """Skip (or fail, when REQUIRE_BROWSER is set) if the browser stack is missing."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} does not exist (install Debian's chromium package)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed in this environment"
    if problem is None:
        return
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"REQUIRE_BROWSER is set but the browser tests cannot run: {problem}.",
                    pytrace=False)
    pytest.skip(f"browser tests skipped: {problem}")


def _seed() -> None:
    load_library()
    home = Territory(code="T1", name="Territory one", district="D1")
    away = Territory(code="T9", name="Territory nine", district="D9")
    brand = Brand(code="ONC", name="Oncora")
    hcps = [
        HCP(external_id=key, name=name, specialty=specialty, account=account,
            territory=home, segment=segment)
        for key, (name, specialty, account, segment) in HCPS.items()
    ]
    # Someone the rep must never find: another district.
    hcps.append(HCP(external_id="H9", name="Dr Zed Far", specialty="Oncology",
                    account="Faraway Clinic", territory=away))
    rep = User(email=REP_EMAIL, name="Sam Rep", role="sales_rep", territory=home)
    hq = User(email=HQ_EMAIL, name="Hana Brand", role="hq_brand", territory=home)
    frm = User(email=FRM_EMAIL, name="Fran Reimb", role="frm", territory=home)
    for user in (rep, hq, frm):
        user.set_password(PASSWORD)
    db.session.add_all([home, away, brand, *hcps, rep, hq, frm])
    db.session.commit()


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The app on a fresh SQLite file, seeded; one per test module."""
    require_chromium()
    database = tmp_path_factory.mktemp("browser-db") / "clearpath.sqlite3"

    class BrowserConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{database}"
        WTF_CSRF_ENABLED = True

    app = create_app(BrowserConfig)
    with app.app_context():
        db.create_all()
        _seed()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(live_app):
    """Serve live_app on 127.0.0.1 at a free port; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium; never a downloaded browser."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
