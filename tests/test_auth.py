"""Signing in and out, users and API tokens from the command line."""

import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, User

from .conftest import PASSWORD


def test_sign_in_lands_on_the_role_home(client, world):
    response = client.post("/login", data={"email": "sales_rep@example.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").headers["Location"] == "/capture"
    client.post("/logout")
    client.post("/login", data={"email": "hq_brand@example.test", "password": PASSWORD})
    assert client.get("/").headers["Location"] == "/feed"


def test_wrong_password_gets_the_same_message_as_unknown_email(client, world):
    wrong = client.post("/login", data={"email": "sales_rep@example.test", "password": "nope"})
    unknown = client.post("/login", data={"email": "ghost@example.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 422
    message = "That email and password do not match an account."
    assert message in wrong.text and message in unknown.text
    failed = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "sign_in_failed")
    ).all()
    assert len(failed) == 2


def test_malformed_email_is_an_inline_error(client, world):
    response = client.post("/login", data={"email": "not-an-email", "password": "x"})
    assert response.status_code == 422
    assert 'id="email-error"' in response.text


def test_next_only_follows_local_paths(client, world):
    data = {"email": "sales_rep@example.test", "password": PASSWORD}
    local = client.post("/login", data={**data, "next": "/capture?hcp=H1"})
    assert local.headers["Location"] == "/capture?hcp=H1"
    client.post("/logout")
    evil = client.post("/login", data={**data, "next": "https://evil.example/"})
    assert evil.headers["Location"] == "/"


def test_sign_out_ends_the_session(client, as_role):
    as_role("sales_rep")
    assert client.get("/capture").status_code == 200
    client.post("/logout")
    assert client.get("/capture").status_code == 302


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


def test_forms_need_a_csrf_token(csrf_client, world):
    response = csrf_client.post("/login", data={"email": "sales_rep@example.test",
                                                "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.text


def test_users_create_reads_the_password_from_stdin(app, runner, world):
    result = runner.invoke(
        args=["users", "create", "New@Example.test", "--role", "frm", "--territory", "T2",
              "--name", "Nia Frm"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.email == "new@example.test"))
    assert user.role == "frm" and user.territory.code == "T2"
    assert user.password_hash.startswith("scrypt:")  # salted, and slow on purpose
    assert user.check_password("a long enough password")


@pytest.mark.parametrize(
    "args, password, message",
    [
        (["--role", "frm", "--territory", "T1"], "short\n", "at least 12 characters"),
        (["--role", "hub", "--territory", "T1"], "a long enough password\n", "Unknown role"),
        (["--role", "frm", "--territory", "ZZ"], "a long enough password\n", "Unknown territory"),
    ],
)
def test_users_create_refuses_bad_input(app, runner, world, args, password, message):
    result = runner.invoke(args=["users", "create", "x@example.test", *args], input=password)
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(db.select(User).where(User.email == "x@example.test")) is None


def test_users_token_prints_a_working_token_last(app, runner, world, client):
    result = runner.invoke(args=["users", "token", "frm@example.test"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    response = client.get("/api/v1/barriers?limit=1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_audit_events_cannot_be_changed(app, world):
    from webapp.audit import record

    record("test_event")
    db.session.commit()
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "test_event"))
    event.action = "tampered"
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()


def test_users_token_takes_a_label(app, runner, world):
    from webapp.models import ApiToken

    result = runner.invoke(args=["users", "token", "frm@example.test", "--label", "CRM sync"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    stored = db.session.scalar(db.select(ApiToken))
    assert (stored.label, stored.last4) == ("CRM sync", token[-4:])


def test_an_unknown_email_still_costs_a_password_hash(client, world):
    """As slow as a wrong password, so the time does not tell whether the account exists."""
    from unittest import mock

    import webapp.auth.services as services

    with mock.patch.object(services, "check_password_hash",
                           wraps=services.check_password_hash) as check:
        response = client.post("/login", data={"email": "ghost@example.test", "password": "nope"})
    assert response.status_code == 422 and check.call_count == 1
