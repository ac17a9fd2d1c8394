"""Where one request's time goes: every SQL statement with its time, and the Python hot spots.

    python -m bench.profile PATH [--as hq|rep] [--method GET|POST] [--json BODY]
                            [--form 'id={uuid}&hcp=…'] [--database-url URL] [--explain]
                            [--top 25]

The request runs in-process (Flask's test client, CSRF off) against the bench database as the
bench HQ user or rep. With --explain, each of the slowest statements is run again under
EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite. A --form body is sent
URL-encoded; in a --form or --json body each `{uuid}` is replaced by a new id per request (a
capture form's call id, a sync batch's items).
"""

import argparse
import cProfile
import io
import json
import pstats
import re
import sys
import time
import uuid

from sqlalchemy import event

from bench import seed as seeding
from bench.load_sync import sqlalchemy_url


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--as", dest="who", choices=("hq", "rep"), default="hq")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--json", default=None)
    parser.add_argument("--form", default=None, help="URL-encoded body; {uuid} is a new id")
    parser.add_argument("--database-url", default=seeding.DEFAULT_URL)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=2, help="requests; the last is profiled")
    args = parser.parse_args(argv)

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(args.database_url),
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    email = seeding.HQ_EMAIL if args.who == "hq" else seeding.REP_EMAIL
    statements: list[tuple[float, str, object]] = []
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        session_id = user.get_id()
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _start(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("started", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _end(conn, cursor, statement, parameters, context, executemany):
            took = time.perf_counter() - conn.info["started"].pop()
            statements.append((took, statement, parameters))

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    for n in range(args.repeat):
        kwargs = {"json": json.loads(_new_ids(args.json))} if args.json else {}
        if args.form:
            kwargs = {"data": _new_ids(args.form),
                      "content_type": "application/x-www-form-urlencoded"}
        statements.clear()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        if n == args.repeat - 1:
            profiler.enable()
        response = client.open(args.path, method=args.method, **kwargs)
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"request {n + 1}: {response.status_code} in {elapsed * 1000:.0f} ms, "
              f"{len(statements)} statements, {sum(s[0] for s in statements) * 1000:.0f} ms in SQL")
    print("\nslowest statements:")
    ordered = sorted(statements, key=lambda s: -s[0])
    for took, statement, _ in ordered[:10]:
        print(f"{took * 1000:8.1f} ms  {' '.join(statement.split())[:400]}")
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(args.top)
    print("\n" + stream.getvalue())
    if args.explain:
        with app.app_context():
            postgres = db.engine.dialect.name == "postgresql"
            for took, statement, parameters in ordered[:4]:
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
                if statement.startswith("SET "):
                    continue
                # The request's own settings first (SET LOCAL holds in this transaction).
                settings = [s for _, s, _ in statements[:statements.index(
                    (took, statement, parameters))] if s.startswith("SET ")]
                with db.engine.connect() as connection:
                    raw = connection.connection.driver_connection
                    cursor = raw.cursor()
                    for setting in settings:
                        cursor.execute(setting)
                    cursor.execute(prefix + statement, parameters)
                    plan = "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
                print(f"\n--- {took * 1000:.1f} ms: {' '.join(statement.split())[:300]}\n{plan}")
    return 0


def _new_ids(body: str) -> str:
    """The body with each `{uuid}` in it replaced by a new id of its own."""
    return re.sub(r"\{uuid\}", lambda _: str(uuid.uuid4()), body)


if __name__ == "__main__":
    sys.exit(main())
