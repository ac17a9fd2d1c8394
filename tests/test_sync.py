"""The sync API: batches in (exactly once, item by item), a stable stream out."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.auth.services import issue_token
from webapp.extensions import db
from webapp.models import Observation

from .conftest import iso

URL = "/api/v1/observations"


@pytest.fixture
def bearer(world):
    def headers(role="sales_rep"):
        return {"Authorization": f"Bearer {issue_token(world['users'][role])}"}

    return headers


def item(**overrides):
    data = {"id": str(uuid.uuid4()), "hcp": "H1", "barriers": ["ACC-PA-002"],
            "note": "office swamped", "observed_at": iso()}
    data.update(overrides)
    return data


def _rows():
    return db.session.scalar(db.select(db.func.count(Observation.id)))


def test_created_then_duplicate_on_replay(client, bearer):
    headers, batch = bearer(), [item(), item(brand="ONC")]
    first = client.post(URL, json={"observations": batch}, headers=headers)
    assert first.status_code == 200
    assert [r["status"] for r in first.json["results"]] == ["created", "created"]
    again = client.post(URL, json={"observations": batch}, headers=headers)
    assert [r["status"] for r in again.json["results"]] == ["duplicate", "duplicate"]
    assert [r["id"] for r in again.json["results"]] == [i["id"] for i in batch]
    assert _rows() == 2


def test_an_id_repeated_in_one_batch_in_any_spelling_is_stored_once(client, bearer):
    """The batch looks its ids up at once, as stored: a repeat inside it, upper case or not,
    is a duplicate of the first, never a second row nor a conflict."""
    first = item()
    batch = [first, {**first, "id": first["id"].upper()}, first]
    results = client.post(URL, json={"observations": batch}, headers=bearer()).json["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "duplicate"]
    assert {r["id"] for r in results} == {first["id"]}
    assert _rows() == 1


def test_same_id_with_different_content_is_rejected_not_overwritten(client, bearer):
    headers, original = bearer(), item()
    client.post(URL, json={"observations": [original]}, headers=headers)
    changed = {**original, "note": "a different note"}
    result = client.post(URL, json={"observations": [changed]}, headers=headers).json["results"][0]
    assert result["status"] == "rejected"
    assert "already used for a different observation" in result["errors"]["id"][0]
    assert db.session.get(Observation, original["id"]).note == "office swamped"


def test_one_bad_item_never_blocks_the_others(client, bearer):
    batch = [item(), item(barriers=[]), item(hcp="H3"), "not an object", item(colour="red"),
             item(observed_at="2026-01-01T10:00:00"), item()]
    results = client.post(URL, json={"observations": batch}, headers=bearer()).json["results"]
    assert [r["status"] for r in results] == [
        "created", "rejected", "rejected", "rejected", "rejected", "rejected", "created"]
    assert "barriers" in results[1]["errors"]
    assert results[2]["errors"] == {"hcp": ["No HCP with this id in your territory."]}
    assert "_item" in results[3]["errors"]
    assert results[4]["errors"] == {"colour": ["Unknown field."]}
    assert "observed_at" in results[5]["errors"]
    assert _rows() == 2


def test_a_batch_longer_than_a_group_commits_every_group(client, bearer):
    from webapp.models import AuditEvent
    from webapp.sync.services import GROUP_SIZE

    batch = [item(note=f"call {n}") for n in range(2 * GROUP_SIZE + 3)]
    batch[GROUP_SIZE + 1] = item(hcp="H3")  # rejected inside the second group
    results = client.post(URL, json={"observations": batch}, headers=bearer()).json["results"]
    statuses = [r["status"] for r in results]
    assert statuses.count("created") == len(batch) - 1 and statuses[GROUP_SIZE + 1] == "rejected"
    db.session.rollback()  # read what was committed, not this session's cache
    assert _rows() == len(batch) - 1
    audited = db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
        AuditEvent.action == "observation_created"))
    assert audited == len(batch) - 1


def test_an_id_stored_by_another_request_mid_group_answers_duplicate(client, bearer, monkeypatch):
    """Another device's request stores an id after this batch looked its ids up: the group's
    insert conflicts, the group is rolled back and written again an item at a time."""
    from webapp.capture.services import BatchLookups
    from webapp.sync import services

    headers, stored = bearer(), item(note="sent by the other device first")
    assert client.post(URL, json={"observations": [stored]}, headers=headers).status_code == 200

    def looked_up_too_early(author, items, known=None):  # as if just before that commit
        return BatchLookups(absent_ids={str(uuid.UUID(i["id"])) for i in items})

    monkeypatch.setattr(services, "_lookups_for", looked_up_too_early)
    batch = [item(note="new before"), stored, item(note="new after"), item(hcp="H3")]
    results = client.post(URL, json={"observations": batch}, headers=headers).json["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "created", "rejected"]
    db.session.rollback()
    assert _rows() == 3
    assert db.session.get(Observation, stored["id"]).note == "sent by the other device first"


def test_malformed_envelopes_get_422_with_field_messages(client, bearer):
    headers = bearer()
    not_json = client.post(URL, data="{nope", headers={**headers, "Content-Type": "application/json"})
    assert not_json.status_code == 422 and "_body" in not_json.json["errors"]
    missing = client.post(URL, json={"items": []}, headers=headers)
    assert missing.status_code == 422 and "observations" in missing.json["errors"]
    too_many = client.post(URL, json={"observations": [item() for _ in range(501)]},
                           headers=headers)
    assert too_many.status_code == 422
    assert too_many.json["errors"]["observations"] == ["Send between 1 and 500 observations."]
    assert _rows() == 0


def test_oversized_body_gets_413(client, bearer):
    huge = {"observations": [item(note="x" * 1000) for _ in range(400)], "pad": "y" * 2_500_000}
    response = client.post(URL, json=huge, headers=bearer())
    assert response.status_code == 413 and "errors" in response.json
    assert _rows() == 0


def test_writes_need_a_capture_role(client, bearer):
    response = client.post(URL, json={"observations": [item()]}, headers=bearer("hq_brand"))
    assert response.status_code == 403
    assert client.post(URL, json={"observations": [item()]}).status_code == 401


def test_browser_session_writes_need_the_csrf_header(app, client, as_role):
    as_role("sales_rep")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(URL, json={"observations": [item()]})
    assert response.status_code == 400 and "csrf" in response.json["errors"]
    assert _rows() == 0


def test_listing_is_scoped_and_pages_neither_skip_nor_repeat(client, bearer, observe):
    for n in range(7):
        observe(note=f"t1 call {n}")
    observe(role="sales_rep_t3", hcp="H3", note="other district")
    headers = bearer("sales_rep")
    seen, since = [], ""
    while True:
        page = client.get(f"{URL}?limit=3&since={since}", headers=headers).json
        seen += [i["note"] for i in page["items"]]
        if len(seen) == 3:
            observe(note="arrived mid-way")
        if not page["next"]:
            break
        since = page["next"]
    assert sorted(seen) == sorted([f"t1 call {n}" for n in range(7)] + ["arrived mid-way"])
    assert "other district" not in seen


def test_listed_items_have_the_documented_fields(client, bearer, observe):
    observe(note="shape check", brand="ONC")
    first = client.get(URL, headers=bearer("hq_brand")).json["items"][0]
    assert first["hcp"] == "H1" and first["barriers"] == ["ACC-PA-002"]
    assert first["territory"] == "T1" and first["brand"] == "ONC"
    assert first["author_role"] == "sales_rep" and first["observed_at"].endswith("+00:00")


def test_bad_cursor_is_a_422(client, bearer):
    response = client.get(f"{URL}?since=garbage", headers=bearer())
    assert response.status_code == 422 and "since" in response.json["errors"]


def test_openapi_describes_the_sync_endpoints(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/observations"])
    assert "Observation" in spec["components"]["schemas"]


ids = st.sampled_from([str(uuid.UUID(int=n, version=4)) for n in range(1, 7)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(ids, min_size=1, max_size=6), min_size=1, max_size=6))
def test_any_interleaving_of_replays_yields_one_row_per_id(client, bearer, batches):
    db.session.execute(db.delete(Observation))  # rows of observation_barrier cascade
    db.session.commit()
    headers = bearer()
    content = {i: item(id=i, note=f"note {i}") for batch in batches for i in batch}
    for batch in batches:
        response = client.post(URL, json={"observations": [content[i] for i in batch]},
                               headers=headers)
        assert all(r["status"] in ("created", "duplicate") for r in response.json["results"])
    stored = db.session.scalars(db.select(Observation.id)).all()
    assert sorted(stored) == sorted(content)


def test_a_batch_writes_once_and_audits_each_hand_off_it_creates(app, client, bearer, world,
                                                                 monkeypatch):
    """Items are stored by one flush once all of the group is prepared (on SQLite the first
    write takes the database's only write lock), hand-offs included, each audited with its id."""
    from sqlalchemy import event

    from webapp.models import AuditEvent, Barrier, Handoff
    from webapp.sync import services

    prepare = services._sync_one

    def prepared(*args, **kwargs):
        result = prepare(*args, **kwargs)
        statements.append("ITEM")
        return result

    monkeypatch.setattr(services, "_sync_one", prepared)

    medical = next(b.code for b in db.session.scalars(db.select(Barrier))
                   if not b.may_be_run_by("sales_rep") and "msl" in b.compliant_for)
    batch = [item(barriers=[medical]), item(), item(barriers=[medical, "ACC-PA-002"])]
    headers, statements = bearer(), []

    def seen(conn, cursor, statement, *args):
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        results = client.post(URL, json={"observations": batch}, headers=headers).json["results"]
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [r["status"] for r in results] == ["created"] * 3
    writes = [i for i, s in enumerate(statements) if s in ("INSERT", "UPDATE", "DELETE")]
    assert statements.count("ITEM") == 3
    assert "ITEM" not in statements[writes[0]:]  # every item prepared before the first write
    assert all(s == "INSERT" for s in statements[writes[0]:writes[-1] + 1])  # no read between

    handoffs = db.session.scalars(db.select(Handoff).order_by(Handoff.id)).all()
    assert [h.observation_id for h in handoffs] == [batch[0]["id"], batch[2]["id"]]
    audited = db.session.scalars(db.select(AuditEvent.entity_id).where(
        AuditEvent.action == "handoff_created")).all()
    assert sorted(audited) == sorted(str(h.id) for h in handoffs)


def test_a_batch_is_inserted_by_one_statement_on_sqlite_and_its_notes_are_searchable(
        client, bearer, world):
    """Each INSERT of observations makes SQLite's FTS5 note index write out what it holds, so a
    batch's calls go in one statement with a row of VALUES each, not one statement per call;
    so do their audit events, which the session does not track."""
    from sqlalchemy import event

    from webapp.models import NOTE_SEARCH

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's note index and its insert trigger")
    batch = [item(note=f"payer sent a {word} letter") for word in ("quokka", "wombat", "dingo")]
    inserts = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(("INSERT INTO observation ", "INSERT INTO audit_event ")):
            inserts.append((statement.split()[2], len(parameters)))  # a value or a row each

    headers = bearer()
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        response = client.post(URL, json={"observations": batch}, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [r["status"] for r in response.json["results"]] == ["created"] * 3
    # One statement for the calls, one for their audit events (without the database's id).
    columns = {"observation": len(Observation.__table__.columns), "audit_event": 6}
    assert sorted(inserts) == [("audit_event", 3 * 6), ("observation", 3 * columns["observation"])]
    for word, sent in zip(("quokka", "wombat", "dingo"), batch, strict=True):
        found = db.session.execute(db.text(
            f"SELECT k.observation_id FROM {NOTE_SEARCH} AS s JOIN {NOTE_SEARCH}_key AS k "
            f"ON k.rowid = s.rowid WHERE {NOTE_SEARCH} MATCH :word"), {"word": word}).scalars()
        assert list(found) == [sent["id"]]
