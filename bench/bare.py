"""The floor to measure Clearpath against: a minimal Flask app on the same database and server.

    gunicorn bench.bare:app      (DATABASE_URL as for the app)

`POST /bare/insert` writes one audit event (one INSERT, one commit); `GET /bare/select` reads
the 50 newest observations through the feed's index and renders them as an HTML table. No
sessions, no CSRF, no ORM: what is left is Flask, SQLAlchemy Core, the driver and gunicorn.
"""

import json
import os
from datetime import UTC, datetime

from flask import Flask, render_template_string
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

app = Flask(__name__)
engine = create_engine(sqlalchemy_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)
postgres = engine.dialect.name == "postgresql"


@app.post("/bare/insert")
def insert():
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(INSERT, {"at": now if postgres else now.strftime(
            "%Y-%m-%d %H:%M:%S.%f"), "detail": json.dumps({"bare": True})})
    return "created", 201


@app.get("/bare/select")
def select():
    with engine.connect() as connection:
        rows = connection.execute(SELECT).all()
    return render_template_string(TABLE, rows=rows)


@app.get("/bare/health")
def health():
    return "ok"
