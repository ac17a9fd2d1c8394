"""The floor to measure Clearpath against: a minimal Flask app on the same database and server.

    gunicorn bench.bare:app      (DATABASE_URL as for the app)

`POST /bare/insert` writes one audit event (one INSERT, one commit); `GET /bare/select` reads
the 50 newest observations through the feed's index and renders them as an HTML table. No
sessions, no CSRF, no ORM: what is left is Flask, SQLAlchemy Core, the driver and gunicorn.

`POST /bare/capture` writes what a capture writes, with none of the app: a call (its table's
nine indexes and the note's word-search index), its barrier and its audit event, in one
transaction. It tells how much of a capture's cost is the rows themselves: the goal compares
a capture with the bare insert, which writes one narrow row.
"""

import hashlib
import json
import os
import random
import uuid
from datetime import UTC, datetime

from flask import Flask, render_template_string, request
from sqlalchemy import create_engine, text

import webapp  # noqa: F401  (registers the app's SQLite pragmas: WAL, busy timeout, …)
from bench.load_sync import sqlalchemy_url

TABLE = """<!doctype html><title>bare</title><table>
<tr><th>id</th><th>received</th><th>role</th><th>note</th></tr>
{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.received_at }}</td>
<td>{{ row.author_role }}</td><td>{{ row.note }}</td></tr>
{% endfor %}</table>"""
SELECT = text("SELECT id, received_at, author_role, note FROM observation "
              "ORDER BY received_at DESC, id DESC LIMIT 50")
INSERT = text("INSERT INTO audit_event (at, actor_id, action, entity, entity_id, detail) "
              "VALUES (:at, NULL, 'bare_insert', 'bench', '', :detail)")

# A call of the bench rep's with one HCP of their territory and one
# active barrier, each picked at random as the bench's captures pick them.
CAPTURE = [
    text("INSERT INTO observation (id, author_id, author_role, hcp_id, territory_id, brand_id, "
         "note, observed_at, received_at, fingerprint, safety_flag, safety_terms) VALUES (:id, "
         ":author_id, :role, :hcp_id, :territory_id, NULL, :note, :at, :at, :fingerprint, "
         ":false, '[]')"),
    text("INSERT INTO observation_barrier (observation_id, barrier_id, play_id) "
         "VALUES (:id, :barrier_id, NULL)"),
    text("INSERT INTO audit_event (at, actor_id, action, entity, entity_id, detail) "
         "VALUES (:at, :author_id, 'bare_capture', 'observation', :id, :detail)"),
]
WHO = text("SELECT u.id, u.role, h.id, h.territory_id FROM \"user\" u JOIN hcp h "
           "ON h.territory_id = u.territory_id WHERE u.email = :email ORDER BY h.id LIMIT 400")
BARRIERS = text("SELECT id FROM barrier WHERE retired_at IS NULL ORDER BY code LIMIT 40")
_picks: dict = {}

app = Flask(__name__)
engine = create_engine(sqlalchemy_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)
postgres = engine.dialect.name == "postgresql"


def _stamp(now: datetime):
    return now if postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f")


@app.post("/bare/insert")
def insert():
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(INSERT, {"at": _stamp(now), "detail": json.dumps({"bare": True})})
    return "created", 201


def _capture_picks() -> dict:
    """Who captures, which HCPs and barriers: read once per process."""
    if not _picks:
        from bench.seed import REP_EMAIL

        with engine.connect() as connection:
            rows = connection.execute(WHO, {"email": REP_EMAIL}).all()
            _picks.update(author=rows[0][:2], hcps=[row[2:] for row in rows],
                          barriers=connection.execute(BARRIERS).scalars().all())
    return _picks


@app.post("/bare/capture")
def capture():
    picks = _capture_picks()
    hcp_id, territory_id = random.choice(picks["hcps"])
    note = request.form.get("note", "")
    values = {"id": str(uuid.uuid4()), "author_id": picks["author"][0],
              "role": picks["author"][1], "hcp_id": hcp_id, "territory_id": territory_id,
              "note": note, "at": _stamp(datetime.now(UTC)), "false": False,
              "fingerprint": hashlib.sha256(note.encode()).hexdigest(),
              "barrier_id": random.choice(picks["barriers"]),
              "detail": json.dumps({"bare": True})}
    with engine.begin() as connection:
        for statement in CAPTURE:
            connection.execute(statement, values)
    return "created", 201


@app.get("/bare/select")
def select():
    with engine.connect() as connection:
        rows = connection.execute(SELECT).all()
    return render_template_string(TABLE, rows=rows)


@app.get("/bare/health")
def health():
    return "ok"
