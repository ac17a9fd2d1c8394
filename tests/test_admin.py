"""The admin's audit trail (search, keyset pages, CSV export) and everyone's API tokens."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from webapp.admin.services import EXPORT_BATCH
from webapp.audit import record
from webapp.auth.services import issue_token
from webapp.extensions import db
from webapp.models import ApiToken, AuditEvent

HTMX = {"HX-Request": "true"}
NOW = datetime.now(UTC).replace(microsecond=0)


def _events(action: str) -> list[AuditEvent]:
    return db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _ids_on(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="event-(\d+)">', page)]


def _add_events(count: int, action="test_event", at=None, **fields) -> list[AuditEvent]:
    """Insert events directly, all at the same instant by default (the keyset's hard case)."""
    at = at or NOW
    events = [AuditEvent(action=action, at=at, entity=fields.get("entity", "thing"),
                         entity_id=str(n), actor_id=fields.get("actor_id"), detail={"n": n})
              for n in range(count)]
    db.session.add_all(events)
    db.session.commit()
    return events


@pytest.fixture
def admin(as_role):
    return as_role("admin")


# Search and pages ---------------------------------------------------------------------------------
def test_audit_pages_walk_every_event_once_newest_first(admin, client):
    added = _add_events(60, at=NOW - timedelta(hours=1)) + _add_events(60)
    expected = sorted((e for e in db.session.scalars(db.select(AuditEvent))),
                      key=lambda e: (e.at, e.id), reverse=True)
    seen, url = [], "/admin/audit"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += _ids_on(page.text)
        older = re.search(r'href="(/admin/audit\?before=[^"]+)">Older</a>', page.text)
        url = older.group(1).replace("&amp;", "&") if older else None
        # Events written while someone pages never shift the pages already cut.
        _add_events(1, action="written_meanwhile", at=datetime.now(UTC))
    assert seen == [e.id for e in expected] and len(added) == 120


def test_audit_search_by_action_actor_entity_and_dates(admin, client, world):
    rep, frm = world["users"]["sales_rep"], world["users"]["frm"]
    old = _add_events(2, action="play_run", at=NOW - timedelta(days=10), actor_id=rep.id)
    recent = _add_events(3, action="play_run", actor_id=frm.id, entity="play_run")
    other = _add_events(2, action="handoff_created", actor_id=rep.id)

    def ids(query):
        response = client.get("/admin/audit?" + query)
        assert response.status_code == 200
        return set(_ids_on(response.text))

    assert ids("action=play_run") == {e.id for e in old + recent}
    assert ids("actor=FRM@") == {e.id for e in recent}
    assert ids("action=handoff_created&actor=sales_rep") == {e.id for e in other}
    assert ids(f"entity=play_run&entity_id={recent[1].entity_id}") == {recent[1].id}
    day = (NOW - timedelta(days=10)).date()
    assert ids(f"action=play_run&since={day}&until={day}") == {e.id for e in old}
    assert ids(f"action=play_run&since={day + timedelta(days=1)}") == {e.id for e in recent}
    assert ids("actor=%25") == set()  # a wildcard is searched for, not expanded


def test_audit_search_tells_what_is_wrong(admin, client):
    _add_events(1)
    response = client.get("/admin/audit?since=2026-11-30&until=2026-11-01")
    assert response.status_code == 422 and "The start date is after the end date." in response.text
    bad = client.get("/admin/audit?before=not-a-cursor&since=soon")
    assert bad.status_code == 422
    assert "This page link is no longer valid." in bad.text and "Use a date like" in bad.text


def test_audit_search_answers_htmx_with_the_results_only(admin, client):
    _add_events(1, action="needle")
    response = client.get("/admin/audit?action=needle", headers=HTMX)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert response.text.lstrip().startswith('<div id="audit-results">')
    assert "<html" not in response.text and "needle" in response.text


def test_audit_detail_is_shown_escaped(admin, client):
    record("test_event", entity="thing", note="<script>alert(1)</script>")
    db.session.commit()
    page = client.get("/admin/audit?action=test_event").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# CSV export ---------------------------------------------------------------------------------------
def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_audit_export_streams_every_matching_event_and_is_audited(admin, client, world):
    count = EXPORT_BATCH * 2 + 7  # more than one batch, and a part batch
    _add_events(count)
    _add_events(3, action="other")
    response = client.get("/admin/audit.csv?action=test_event")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="clearpath-audit-')
    rows = _csv(response)
    assert rows[0] == ["id", "at", "action", "actor", "actor_role", "entity", "entity_id", "ip",
                       "detail"]
    ids = [int(row[0]) for row in rows[1:]]
    assert len(ids) == len(set(ids)) == count and {row[2] for row in rows[1:]} == {"test_event"}
    (export,) = _events("audit_exported")
    assert export.actor_id == world["users"]["admin"].id
    assert export.detail["filters"] == {"action": "test_event"}


def test_audit_export_neutralises_spreadsheet_formulas(admin, client, world):
    hostile = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)",
               "\tTAB", "\rCR"]
    for n, value in enumerate(hostile):
        record("hostile", entity=value, entity_id=f"-{n}", label=value)
    db.session.commit()
    rows = _csv(client.get("/admin/audit.csv?action=hostile"))[1:]
    assert len(rows) == len(hostile)
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert sorted(row[5] for row in rows) == sorted("'" + value for value in hostile)
    assert {row[6] for row in rows} == {f"'-{n}" for n in range(len(hostile))}


def test_audit_export_refuses_a_bad_search(admin, client):
    response = client.get("/admin/audit.csv?since=yesterday")
    assert response.status_code == 422 and "since" in response.json["errors"]
    assert _events("audit_exported") == []


def test_audit_events_cannot_be_deleted(app, world):
    record("test_event")
    db.session.commit()
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "test_event"))
    db.session.delete(event)
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()


# Everyone's tokens --------------------------------------------------------------------------------
def test_admin_lists_everyones_tokens_without_the_tokens(admin, client, world):
    rep_token = issue_token(world["users"]["sales_rep"], "CRM sync")
    frm_token = issue_token(world["users"]["frm"], "FRM laptop")
    page = client.get("/admin/tokens").text
    for token, email in ((rep_token, "sales_rep@example.test"), (frm_token, "frm@example.test")):
        assert email in page and f"…{token[-4:]}" in page and token not in page
    found = client.get("/admin/tokens?q=FRM@", headers=HTMX).text
    assert "FRM laptop" in found and "CRM sync" not in found


def test_admin_revokes_anyones_token_and_it_is_audited(admin, app, client, world):
    rep = world["users"]["sales_rep"]
    token = issue_token(rep, "CRM sync")
    stored = db.session.scalar(db.select(ApiToken))
    response = client.post(f"/admin/tokens/{stored.id}/revoke")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/tokens#token-{stored.id}"
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    (event,) = _events("api_token_revoked")
    assert event.actor_id == world["users"]["admin"].id and event.detail["user"] == rep.id
    assert client.post("/admin/tokens/424242/revoke").status_code == 404


def test_only_admin_revokes_from_the_admin_page(as_role, client, world):
    issue_token(world["users"]["frm"], "FRM laptop")
    stored = db.session.scalar(db.select(ApiToken))
    as_role("hq_brand")
    assert client.post(f"/admin/tokens/{stored.id}/revoke").status_code == 403
    assert client.post("/admin/sign-out-everywhere",
                       data={"email": "frm@example.test"}).status_code == 403
    db.session.refresh(stored)
    assert stored.active


def test_admin_signs_a_user_out_everywhere(admin, app, client, world, login):
    tablet = app.test_client()
    tablet.post("/login", data={"email": "frm@example.test", "password": "correct horse battery"})
    assert tablet.get("/queue").status_code == 200
    token = issue_token(world["users"]["frm"], "FRM laptop")
    response = client.post("/admin/sign-out-everywhere",
                           data={"email": "FRM@example.test", "revoke_tokens": "1"})
    assert response.status_code == 303
    assert "frm@example.test is signed out on every device; 1 API token revoked." in \
        client.get("/admin/tokens").text
    assert tablet.get("/queue").status_code == 302
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    (event,) = _events("signed_out_everywhere")
    assert event.actor_id == world["users"]["admin"].id
    assert event.entity_id == str(world["users"]["frm"].id)
    missing = client.post("/admin/sign-out-everywhere", data={"email": "ghost@example.test"})
    assert missing.status_code == 422 and "No user with this email." in missing.text
