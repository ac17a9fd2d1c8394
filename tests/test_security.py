"""Sign-in throttling, session cookies and their end, API tokens of one's own, security headers."""

import re
import socket
import uuid
from pathlib import Path

import pytest

from webapp.auth.services import issue_token
from webapp.config import rate_limit_storage
from webapp.extensions import db, limiter
from webapp.models import ApiToken, AuditEvent, User

from .conftest import PASSWORD

THROTTLED = "Too many sign-in attempts. Wait a few minutes, then try again."
NO_MATCH = "That email and password do not match an account."
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _events(action: str) -> list[AuditEvent]:
    return db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _sign_in(client, email, password=PASSWORD, address="127.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


# Throttling ---------------------------------------------------------------------------------------
@pytest.fixture
def throttled(app):
    """Sign-in limits on, small enough to reach: 3 failures per account, 5 per address."""
    app.config.update(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
                      LOGIN_LIMIT_PER_ADDRESS="5 per minute")
    limiter.init_app(app)
    return app


def test_throttling_is_off_in_tests_unless_asked(client, world):
    for _ in range(15):
        assert _sign_in(client, "sales_rep@example.test", "wrong").status_code == 422


def test_an_account_is_throttled_after_failed_attempts(throttled, client, world):
    for _ in range(3):
        assert _sign_in(client, "sales_rep@example.test", "wrong").status_code == 422
    refused = _sign_in(client, "sales_rep@example.test")  # even the right password, for now
    assert refused.status_code == 429
    assert THROTTLED in refused.text and NO_MATCH not in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "/login" not in refused.headers.get("Location", "")
    # Another account from the same address is not held back.
    assert _sign_in(client, "frm@example.test").status_code == 302


def test_the_throttle_says_nothing_about_whether_the_account_exists(throttled, app, world):
    answers = []
    for email in ("sales_rep@example.test", "nobody@example.test"):
        client = app.test_client()
        for _ in range(3):
            _sign_in(client, email, "wrong")
        answers.append(_sign_in(client, email, "wrong"))
    known, unknown = answers
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] and unknown.headers["Retry-After"]

    def message(response):
        return re.search(r'<p class="error" id="_form-error">(.*?)</p>', response.text).group(1)

    assert message(known) == message(unknown) == THROTTLED


def test_an_address_is_throttled_across_accounts(throttled, client, world):
    for n in range(5):
        assert _sign_in(client, f"guess{n}@example.test", "wrong").status_code == 422
    assert _sign_in(client, "sales_rep@example.test").status_code == 429
    # A colleague on another address signs in as usual.
    assert _sign_in(client, "sales_rep@example.test", address="127.0.0.2").status_code == 302


def test_successful_sign_ins_do_not_count(throttled, client, world):
    for _ in range(8):
        assert _sign_in(client, "sales_rep@example.test").status_code == 302
        client.post("/logout")


def test_failed_and_throttled_sign_ins_are_audited(throttled, client, world):
    rep = world["users"]["sales_rep"]
    _sign_in(client, "sales_rep@example.test", "wrong")
    _sign_in(client, "ghost@example.test", "wrong")
    wrong, unknown = _events("sign_in_failed")
    assert (wrong.entity_id, wrong.detail["reason"]) == (str(rep.id), "wrong_password")
    assert (unknown.entity_id, unknown.detail["reason"]) == ("", "unknown_account")
    assert wrong.detail["ip"] == "127.0.0.1" and unknown.detail["email"] == "ghost@example.test"
    for _ in range(2):
        _sign_in(client, "sales_rep@example.test", "wrong")
    for _ in range(3):
        assert _sign_in(client, "sales_rep@example.test", "wrong").status_code == 429
    # Refused attempts are not each written down: one event per address and account a while.
    (throttled_event,) = _events("sign_in_throttled")
    assert throttled_event.detail == {"email": "sales_rep@example.test", "ip": "127.0.0.1"}
    assert len(_events("sign_in_failed")) == 4


def test_limits_are_counted_in_redis_when_redis_url_is_set(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert rate_limit_storage() == "memory://"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert rate_limit_storage() == "redis://127.0.0.1:6379/0"


def _redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_is_up(), reason="no Redis on 127.0.0.1:6379")
def test_throttling_works_with_redis_storage(app, client, world):
    import redis

    app.config.update(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="2 per minute",
                      LOGIN_LIMIT_PER_ADDRESS="1000 per minute",
                      RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    limiter.init_app(app)
    # Another test run may share this Redis: an account and address of this run only.
    email = f"{uuid.uuid4().hex}@example.test"
    address = f"127.{uuid.uuid4().int % 250 + 1}.{uuid.uuid4().int % 250 + 1}.9"
    try:
        for _ in range(2):
            assert _sign_in(client, email, "wrong", address).status_code == 422
        assert _sign_in(client, email, "wrong", address).status_code == 429
        keys = redis.Redis(host="127.0.0.1", port=6379).keys(f"*{email}*")
        assert keys
    finally:
        connection = redis.Redis(host="127.0.0.1", port=6379)
        for pattern in (f"*{email}*", f"*{address}*"):
            for key in connection.keys(pattern):
                connection.delete(key)
        connection.close()


# Sessions ---------------------------------------------------------------------------------------
def test_session_cookie_is_httponly_lax_and_secure_when_configured(app, client, world):
    cookie = _sign_in(client, "sales_rep@example.test").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    client.post("/logout")
    app.config["SESSION_COOKIE_SECURE"] = True
    cookie = _sign_in(client, "sales_rep@example.test").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_signing_in_starts_a_new_session(client, world):
    """Whatever a session held before sign-in (planted by an attacker or not) is dropped."""
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["csrf_token"] = "known-to-the-attacker"
    _sign_in(client, "sales_rep@example.test")
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("csrf_token") != "known-to-the-attacker"
        user = world["users"]["sales_rep"]
        assert session["_user_id"] == f"{user.id}:{user.session_version}"


def test_a_session_from_before_session_versions_is_refused(client, world):
    with client.session_transaction() as session:
        session["_user_id"] = str(world["users"]["sales_rep"].id)
        session["_fresh"] = True
    assert client.get("/capture").status_code == 302


def test_sign_out_everywhere_ends_every_session_but_keeps_tokens(app, world):
    laptop, tablet = app.test_client(), app.test_client()
    for device in (laptop, tablet):
        assert _sign_in(device, "sales_rep@example.test").status_code == 302
    token = issue_token(world["users"]["sales_rep"], "CRM")
    # A copy of the tablet's cookie, as a thief would hold it.
    stolen = tablet.get_cookie("session").value
    response = laptop.post("/account/sign-out-everywhere")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "signed out on every device" in laptop.get("/login").text
    for device in (laptop, tablet):
        assert device.get("/capture").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/capture").status_code == 302
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    (event,) = _events("signed_out_everywhere")
    assert event.actor_id == world["users"]["sales_rep"].id and event.detail["tokens_revoked"] == 0
    # Signing in again works, with the new session version.
    assert _sign_in(tablet, "sales_rep@example.test").status_code == 302
    assert tablet.get("/capture").status_code == 200


def test_sign_out_everywhere_can_revoke_the_tokens_too(app, client, world):
    rep = world["users"]["sales_rep"]
    tokens = [issue_token(rep, "one"), issue_token(rep, "two")]
    other = issue_token(world["users"]["frm"], "not mine")
    _sign_in(client, rep.email)
    client.post("/account/sign-out-everywhere", data={"revoke_tokens": "1"})
    api = app.test_client()
    for token in tokens:
        assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    assert _events("signed_out_everywhere")[0].detail["tokens_revoked"] == 2


# API tokens of one's own --------------------------------------------------------------------------
def test_account_lists_own_tokens_without_showing_them(client, world):
    rep = world["users"]["sales_rep"]
    mine = issue_token(rep, "CRM sync")
    theirs = issue_token(world["users"]["frm"], "FRM laptop")
    _sign_in(client, rep.email)
    page = client.get("/account").text
    assert "CRM sync" in page and f"…{mine[-4:]}" in page
    assert mine not in page and "FRM laptop" not in page and theirs[-4:] not in page


def test_a_new_token_is_shown_once_and_only_its_hash_is_kept(app, client, world):
    rep = world["users"]["sales_rep"]
    _sign_in(client, rep.email)
    response = client.post("/account/tokens", data={"label": "Tableau"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r'<textarea id="new-token"[^>]*>([^<]+)</textarea>', response.text).group(1)
    stored = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == rep.id))
    assert stored.token_hash == ApiToken.hash(token) and stored.label == "Tableau"
    assert stored.last4 == token[-4:] and token not in client.get("/account").text
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.json["email"] == rep.email
    (event,) = _events("api_token_created")
    assert (event.actor_id, event.entity, event.entity_id) == (rep.id, "api_token", str(stored.id))
    assert token not in str(event.detail)


def test_a_token_name_is_checked(client, world):
    _sign_in(client, "sales_rep@example.test")
    response = client.post("/account/tokens", data={"label": "x" * 81})
    assert response.status_code == 422 and 'id="label-error"' in response.text
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_revoking_a_token_of_ones_own(app, client, world):
    rep = world["users"]["sales_rep"]
    token = issue_token(rep, "old laptop")
    stored = db.session.scalar(db.select(ApiToken))
    _sign_in(client, rep.email)
    response = client.post(f"/account/tokens/{stored.id}/revoke")
    assert response.status_code == 303
    assert "revoked" in client.get("/account").text
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    (event,) = _events("api_token_revoked")
    assert (event.actor_id, event.entity_id, event.detail["user"]) == (rep.id, str(stored.id), rep.id)
    # Revoking again changes nothing and adds no event.
    client.post(f"/account/tokens/{stored.id}/revoke")
    assert len(_events("api_token_revoked")) == 1


def test_nobody_revokes_someone_elses_token_from_their_account(app, client, world):
    issue_token(world["users"]["frm"], "FRM laptop")
    stored = db.session.scalar(db.select(ApiToken))
    _sign_in(client, "sales_rep@example.test")
    assert client.post(f"/account/tokens/{stored.id}/revoke").status_code == 404
    assert client.post("/account/tokens/99999999999/revoke").status_code == 404
    db.session.refresh(stored)
    assert stored.active


# Headers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/login", "/static/css/app.css", "/nowhere", "/api/v1/me"])
def test_every_response_carries_the_security_headers(client, path):
    with client.get(path) as response:  # a static file stays open until closed
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'",
                      "form-action 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP, HSTS not configured


def test_hsts_over_https_or_when_configured(app, client):
    secure = client.get("/login", base_url="https://clearpath.test")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    app.config.update(HSTS=True, HSTS_SECONDS=600)
    assert client.get("/login").headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"


def test_templates_have_no_inline_script_style_or_handlers():
    """The CSP would block them in the browser; find them here first."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        if template.parts[-2] == "leave_behinds":
            continue  # rendered to PDF by WeasyPrint on the server, never by a browser
        text = template.read_text()
        for pattern in (inline_script, re.compile(r"<style\b", re.I),
                        re.compile(r"\sstyle\s*=", re.I), re.compile(r"\son[a-z]+\s*=", re.I),
                        re.compile(r"\shx-on", re.I), re.compile(r"javascript:", re.I)):
            offenders += [f"{template.relative_to(TEMPLATES)}: {m.group(0)}"
                          for m in pattern.finditer(text)]
    assert offenders == []


def test_users_keep_their_session_version_through_the_model(world):
    rep = world["users"]["sales_rep"]
    before = rep.get_id()
    rep.end_all_sessions()
    db.session.commit()
    assert rep.get_id() != before and rep.get_id() == f"{rep.id}:{rep.session_version}"
    assert isinstance(db.session.get(User, rep.id).session_version, int)
