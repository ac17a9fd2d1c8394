"""Every feed filter, planned and timed on the bench database: which index it uses.

    python -m bench.explain [--database-url URL]

For each filter the feed offers, the first page's query (the feed's own service builds it, as
the HQ user sees it) runs under EXPLAIN (ANALYZE) on PostgreSQL or EXPLAIN QUERY PLAN on
SQLite; the table lists the indexes the plan uses, whether it reads the whole observation
table, and the time. A filter that scans the table is marked.
"""

import argparse
import re
import sys
import time
from datetime import date, timedelta

from bench import seed as seeding
from bench.load_sync import sqlalchemy_url

FILTERS = [
    ("none", {}),
    ("territory", {"territory": "T002"}),
    ("brand", {"brand": "ONCORA"}),
    ("category", {"category": "access"}),
    ("journey stage", {"journey_stage": "prior_authorization"}),
    ("barrier", {"barrier": "ACC-PA-002"}),
    ("role", {"role": "frm"}),
    ("safety flag", {"safety": True}),
    ("with a note", {"with_note": True}),
    ("dates (last 7 days)", {"date_from": date.today() - timedelta(days=7), "date_to": date.today()}),
    ("dates (a week six months back)", {"date_from": date.today() - timedelta(days=187),
                                        "date_to": date.today() - timedelta(days=180)}),
    ("up to a date seven months back", {"date_to": date.today() - timedelta(days=210)}),
    ("up to a date a month back, by brand", {"date_to": date.today() - timedelta(days=30),
                                             "brand": "ONCORA"}),
    ("word search, common word", {"q": "bounced"}),
    ("word search, rare word", {"q": "zebra"}),
    ("territory + category + brand", {"territory": "T002", "category": "access", "brand": "ONCORA"}),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=seeding.DEFAULT_URL)
    args = parser.parse_args(argv)

    from sqlalchemy import func
    from sqlalchemy.dialects import postgresql, sqlite

    from webapp import create_app
    from webapp.extensions import db
    from webapp.feed.services import PAGE_SIZE, _by_arrival, _filtered
    from webapp.models import NOTE_SEARCH, Barrier, User, observation_barrier

    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(args.database_url)})
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == seeding.HQ_EMAIL))
        postgres = db.engine.dialect.name == "postgresql"
        print("| filter | indexes used | reads all observations | ms |\n|---|---|---|---:|")
        worst = 0.0
        rarest = db.session.execute(
            db.select(Barrier.code, func.count()).join(
                observation_barrier, observation_barrier.c.barrier_id == Barrier.id)
            .group_by(Barrier.code).order_by(func.count(), Barrier.code).limit(1)).first()
        rare = [(f"barrier, the rarest ({rarest[1]:,} calls)", {"barrier": rarest[0]})] if rarest else []
        for label, filters in FILTERS + rare:
            # Timed from the query's building: a word search on SQLite asks the notes' FTS5
            # index for its candidates then, and the query names them.
            started = time.perf_counter()
            query = _by_arrival(_filtered(user, filters), filters, PAGE_SIZE + 1)
            sql = str(query.compile(dialect=postgresql.dialect() if postgres else sqlite.dialect(),
                                    compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            with db.engine.connect() as connection:
                plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(prefix + sql))
                if not postgres:
                    connection.exec_driver_sql(sql).fetchall()
            took = (time.perf_counter() - started) * 1000
            if postgres:
                took = float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))
            indexes = sorted(set(re.findall(
                r"(?:USING (?:COVERING )?INDEX|using|Index Scan on) (\w+)", plan, re.IGNORECASE)))
            if not postgres and filters.get("q") and "observation.id IN (" in sql:
                indexes.append(f"{NOTE_SEARCH} (FTS5: the few calls holding the word)")
            scans = bool(re.search(r"Seq Scan on observation\b|SCAN observation\b(?! USING)", plan))
            worst = max(worst, took)
            print(f"| {label} | {', '.join(indexes) or '—'} | {'**yes**' if scans else 'no'} "
                  f"| {took:.1f} |")
        print(f"\nslowest: {worst:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
