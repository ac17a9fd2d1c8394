"""HQ insights: the dashboard's figures on a small hand-counted fixture, the feed's filters and
CSV export, the HCP history, and the territory's top barriers back in the field."""

import csv
import io
import re

import pytest

from webapp.dashboard.services import build_dashboard
from webapp.extensions import db
from webapp.models import AuditEvent, Barrier, PlayRun

from .sql import with_statements

HTMX = {"HX-Request": "true"}


def _world_of_calls(observe):
    """Five calls this period, two in the period before (28 days each), one from an MSL."""
    observe("sales_rep", barriers=["ACC-PA-002", "ACC-PA-001"], minutes_ago=60, brand="ONC")
    observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=60 * 24 * 3, brand="ONC")
    observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=60 * 24 * 10)
    observe("district_manager", hcp="H2", barriers=["CLN-BIO-001"], minutes_ago=60 * 24 * 5)
    observe("msl", barriers=["CLN-BIO-001"], minutes_ago=60 * 24 * 2, note="medical insight")
    # The period before: ACC-PA-001 seen twice, ACC-PA-002 not at all.
    observe("sales_rep", barriers=["ACC-PA-001"], minutes_ago=60 * 24 * 35)
    observe("sales_rep", barriers=["ACC-PA-001"], minutes_ago=60 * 24 * 40)


def _board(world, role="hq_brand", **filters):
    return build_dashboard(world["users"][role], {"days": 28, **filters})


def test_dashboard_counts_match_the_hand_count(world, observe):
    _world_of_calls(observe)
    board = _board(world)
    # Commercial view: the MSL's call is behind the firewall. 5 mentions in 4 calls.
    assert (board.mentions, board.observations) == (5, 4)
    assert sum(bar.value for bar in board.weekly.bars) == 5
    assert board.heat[("T1", "Access & coverage (payer)")][0] == 4
    assert board.heat[("T2", "Clinical belief & evidence")][0] == 1
    rising = {r.code: (r.now, r.before, r.where) for r in board.rising}
    assert rising["ACC-PA-002"] == (3, 0, "T1") and "ACC-PA-001" not in rising  # 1 now, 2 before
    assert [row[:2] for row in board.by_brand["Oncora"]] == [
        ("ACC-PA-002", db.session.scalar(db.select(Barrier.name).where(Barrier.code == "ACC-PA-002"))),
        ("ACC-PA-001", db.session.scalar(db.select(Barrier.name).where(Barrier.code == "ACC-PA-001"))),
    ]


def test_the_boards_period_counts_read_an_index_not_the_calls(world, observe):
    """Both reads of the mentions find what they count by in ix_observation_period."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by its table sizes")
    _world_of_calls(observe)
    _, statements = with_statements(lambda: _board(world))
    scans = [s for s in statements if "FROM observation_barrier JOIN observation ON" in s]
    connection = db.session.connection()
    for scan in scans:
        parameters = tuple(range(scan.count("?")))  # EXPLAIN QUERY PLAN ignores their values
        plan = " / ".join(row[-1] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + scan, parameters))
        assert "SEARCH observation USING COVERING INDEX ix_observation_period" in plan, plan


def test_the_board_reads_the_mentions_twice_not_once_per_figure(world, observe):
    """Totals, brands, territories, the heat map, what is rising and the coverage are all sums
    of one count by period, territory, brand and barrier; the weekly chart is the other read."""
    _world_of_calls(observe)
    board, statements = with_statements(lambda: _board(world))
    scans = [s for s in statements if "FROM observation_barrier JOIN observation ON" in s]
    assert len(scans) == 2, scans
    assert board.by_territory == {
        "T1": [("ACC-PA-002", _name("ACC-PA-002"), 3), ("ACC-PA-001", _name("ACC-PA-001"), 1)],
        "T2": [("CLN-BIO-001", _name("CLN-BIO-001"), 1)],
    }
    assert [c.brand for c in board.coverage] == ["No brand", "Oncora"]
    assert [(c.seen, [u["count"] for u in c.uncovered]) for c in board.coverage] == [
        (2, [1, 1]), (2, [2, 1])]


def _name(code: str) -> str:
    return db.session.scalar(db.select(Barrier.name).where(Barrier.code == code))


def test_medical_roles_see_msl_insights_on_the_dashboard(world, observe):
    _world_of_calls(observe)
    assert _board(world, "head_of_medical").mentions == 6
    assert _board(world, "hq_brand").mentions == 5


def test_play_coverage_counts_effective_plays_and_lists_the_rest_biggest_first(world, observe):
    _world_of_calls(observe)
    barrier = db.session.scalar(db.select(Barrier).where(Barrier.code == "ACC-PA-002"))
    rep = world["users"]["sales_rep"]
    for outcome in ("resolved", "resolved", "not_resolved"):
        call = observe("sales_rep", hcp="H1", barriers=["ACC-PA-002"], minutes_ago=60 * 24 * 40)
        db.session.add(PlayRun(observation=call, barrier=barrier, play=barrier.play, runner=rep,
                               runner_role="sales_rep", ran_at=call.observed_at,
                               channel_code="face_to_face", outcome=outcome,
                               outcome_due_at=call.observed_at))
    db.session.commit()
    coverage = {c.brand: c for c in _board(world).coverage}
    oncora = coverage["Oncora"]
    # Seen on Oncora this period: ACC-PA-002 (2 of 3 resolved: 67% ≥ 60%) and ACC-PA-001.
    assert (oncora.effective, oncora.seen) == (1, 2)
    assert [u["code"] for u in oncora.uncovered] == ["ACC-PA-001"]
    assert oncora.uncovered[0]["why"] == "play not yet judged"


def test_dashboard_page_fragment_and_pdf(client, as_role, world, observe):
    _world_of_calls(observe)
    as_role("hq_brand")
    page = client.get("/dashboard")
    assert page.status_code == 200 and "<svg" in page.text
    assert "Oncora: effective plays for 0 of 2 barriers seen" in page.text
    assert "medical insight" not in page.text
    fragment = client.get("/dashboard?days=90", headers=HTMX)
    assert fragment.text.lstrip().startswith('<div id="board">')
    assert "HX-Request" in fragment.headers["Vary"]
    bad = client.get("/dashboard?days=9999")
    assert bad.status_code == 422 and "between 7 and 365 days" in bad.text
    pdf = client.get("/dashboard.pdf?brand=ONC")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "dashboard_printed"))


def test_a_board_printed_again_is_laid_out_once_and_each_print_audited(
        app, client, as_role, world, observe):
    """The print names the board's counted time, not the time of printing: the same board
    printed again is the same HTML, laid out once (seconds for 25 pages at 1M calls)."""
    from webapp.cache import TTLCache
    from webapp.dashboard.routes import PRINTED_BOARDS

    _world_of_calls(observe)
    as_role("hq_brand")
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    PRINTED_BOARDS.cache_clear()
    first, again = client.get("/dashboard.pdf"), client.get("/dashboard.pdf")
    assert first.data == again.data and first.data.startswith(b"%PDF")
    assert (PRINTED_BOARDS.cache_info().misses, PRINTED_BOARDS.cache_info().hits) == (1, 1)
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "dashboard_printed")) == 2
    client.get("/dashboard.pdf?brand=ONC")  # another board, another print
    assert PRINTED_BOARDS.cache_info().misses == 2


def test_feed_filters_by_role_stage_barrier_safety_note_and_words(client, as_role, observe):
    observe("sales_rep", barriers=["ACC-PA-002"], note="office says PA keeps bouncing")
    observe("district_manager", hcp="H2", barriers=["CLN-BIO-001"])
    observe("sales_rep", barriers=["ACC-PA-001"], note="patient had a rash after the second dose")
    as_role("hq_brand")

    def names(query):
        text = client.get(f"/feed?{query}", headers=HTMX).text
        return len(re.findall(r'class="feed-item"', text))

    assert names("") == 3
    assert names("role=district_manager") == 1
    assert names("journey_stage=prior_authorization") == 2
    assert names("barrier=ACC-PA-001") == 1
    assert names("safety=1") == 1
    assert names("with_note=1") == 2
    assert names("q=bouncing+office") == 1
    assert names("q=100%25") == 0  # a wildcard is searched for, not matched


def test_csv_export_streams_the_same_numbers_and_neutralises_formulas(client, as_role, world,
                                                                      observe):
    _world_of_calls(observe)
    observe("sales_rep", barriers=["ACC-PA-002"], note="=HYPERLINK(\"http://evil\")", minutes_ago=30)
    as_role("hq_brand")
    response = client.get("/feed/export.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert any(r["note"] == "'=HYPERLINK(\"http://evil\")" for r in rows)
    assert all(r["note"] != "medical insight" for r in rows)  # the firewall holds in exports
    # Rows in the dashboard's period add up to the dashboard's count.
    board = _board(world)
    in_period = [r for r in rows if r["observed_at"] >= board.period.start.isoformat()]
    assert len(in_period) == board.mentions
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "feed_exported"))


def test_each_feed_item_links_to_the_hcps_history(client, as_role, observe):
    call = observe("sales_rep", barriers=["ACC-PA-002"], note="PA came back again")
    as_role("hq_brand")
    assert "/hcps/H1" in client.get("/feed").text
    history = client.get("/hcps/H1").text
    assert "PA came back again" in history and f"/observations/{call.id}" in history
    as_role("sales_rep_t3")
    assert client.get("/hcps/H1").status_code == 404  # another district


def test_reps_see_their_territorys_top_barriers_and_what_worked(client, as_role, observe):
    observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=60 * 24)
    observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=60 * 24 * 2)
    as_role("sales_rep")
    page = client.get("/capture").text
    section = page[page.index('id="territory-top"'):]
    assert "seen 2 times" in section and "new play: no outcome recorded yet" in section


def test_territory_top_counts_are_shared_between_workers_and_the_barriers_read_live(
        app, client, as_role, observe, monkeypatch):
    import webapp.dashboard.services as dashboard
    from webapp.cache import TTLCache
    from webapp.models import Barrier

    observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=60 * 24)
    observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=60 * 24 * 2)
    as_role("sales_rep")
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    assert "seen 2 times" in client.get("/capture").text
    # Another worker, its own empty memory and no way to count: the counts come from the
    # snapshot; the barrier itself is read live (renamed since).
    app.extensions["clearpath_cache"] = TTLCache(60)
    monkeypatch.setattr(dashboard, "_mentions", lambda *args: (_ for _ in ()).throw(
        AssertionError("counted again instead of reading the snapshot")))
    barrier = db.session.scalar(db.select(Barrier).where(Barrier.code == "ACC-PA-002"))
    barrier.name = "Prior authorization bounced (renamed)"
    db.session.commit()
    page = client.get("/capture").text
    section = page[page.index('id="territory-top"'):]
    assert "Prior authorization bounced (renamed)" in section and "seen 2 times" in section




def test_a_dashboard_built_by_one_worker_is_served_to_another_from_its_snapshot(
        app, client, as_role, world, observe, monkeypatch):
    import webapp.dashboard.services as dashboard
    from webapp.cache import TTLCache

    _world_of_calls(observe)
    as_role("hq_brand")
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    built = client.get("/dashboard?brand=ONC", headers=HTMX)
    assert built.status_code == 200 and "Oncora" in built.text
    # Another worker: its own empty memory, and no way to build the board itself.
    app.extensions["clearpath_cache"] = TTLCache(60)
    monkeypatch.setattr(dashboard, "_build", lambda *args: (_ for _ in ()).throw(
        AssertionError("rebuilt instead of reading the snapshot")))
    served = client.get("/dashboard?brand=ONC", headers=HTMX)
    assert served.status_code == 200
    assert re.search(r"\d+ barriers in \d+ calls", served.text).group(0) == re.search(
        r"\d+ barriers in \d+ calls", built.text).group(0)
    assert "Oncora" in served.text


def test_a_boards_play_figures_are_counted_once_for_every_filter_of_the_scope(
        app, world, observe, monkeypatch):
    """Play success (over every run) and time to play do not change with a board's brand or
    territory: a second board of the same scope takes them as counted, saying when."""
    import webapp.dashboard.services as dashboard
    from webapp.cache import TTLCache

    _world_of_calls(observe)
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    everything = _board(world)
    monkeypatch.setattr(dashboard, "success_rates", lambda *args: pytest.fail("counted again"))
    monkeypatch.setattr(dashboard, "play_delays", lambda *args, **kw: pytest.fail("counted again"))
    oncora = _board(world, brand=world["brand"])
    assert oncora.mentions == 3 and everything.mentions == 5  # the filter still applies
    assert oncora.success == everything.success and oncora.delays == everything.delays
    assert oncora.outcomes_counted_at == everything.outcomes_counted_at != ""


def _board_snapshot():
    """The one saved board (the scope's play success and time to play are saved beside it)."""
    import pickle

    from webapp.dashboard.services import Dashboard
    from webapp.models import InsightSnapshot

    (board,) = [s for s in db.session.scalars(db.select(InsightSnapshot))
                if isinstance(pickle.loads(s.payload), Dashboard)]
    return board


def test_the_first_view_of_a_day_shows_the_day_befores_board_while_the_days_is_counted(
        app, client, as_role, world, observe, monkeypatch):
    """Keys carry the day: at midnight every board would be counted again while its first
    viewer waited. The day before's is shown at once, saying when it was counted, and the
    day's own is built in the background."""
    import pickle
    from datetime import UTC, datetime, timedelta

    import webapp.cache as cache
    import webapp.dashboard.services as dashboard
    from webapp.cache import TTLCache

    _world_of_calls(observe)
    as_role("hq_brand")
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    board = dashboard.build_dashboard(world["users"]["hq_brand"],
                                      {"days": 28, "brand": None, "territory": None}, yesterday)
    late = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23, minutes=58)
    board.built_at = late
    snapshot = _board_snapshot()
    snapshot.payload, snapshot.built_at = pickle.dumps(board), late
    db.session.commit()
    app.extensions["clearpath_cache"] = TTLCache(60)  # a worker started this morning
    jobs = []
    monkeypatch.setattr(cache, "in_background", jobs.append)  # kept_count's rebuilds
    monkeypatch.setattr(dashboard, "_build", lambda *args: (_ for _ in ()).throw(
        AssertionError("counted while the viewer waited")))
    page = client.get("/dashboard", headers=HTMX).text
    assert f"Counted at 23:58 UTC on {yesterday:%d %b}." in page
    assert f"{board.period.last_day:%d %b %Y}" in page  # the day before's period, as it says
    assert len(jobs) == 1


def test_an_hour_old_dashboard_is_shown_at_once_with_its_time_while_a_new_one_is_built(
        app, client, as_role, world, observe, monkeypatch):
    """A dashboard nobody opened for an hour is not counted again while its viewer waits (28 s
    at 1M calls on SQLite): the day's snapshot is shown, saying when it was counted, and one
    rebuild is started in the background."""
    import pickle
    from datetime import UTC, datetime, timedelta

    import webapp.cache as cache
    import webapp.dashboard.services as dashboard
    from webapp.cache import TTLCache

    _world_of_calls(observe)
    as_role("hq_brand")
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    assert client.get("/dashboard", headers=HTMX).status_code == 200
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    snapshot = _board_snapshot()
    board = pickle.loads(snapshot.payload)
    board.built_at = an_hour_ago
    snapshot.payload, snapshot.built_at = pickle.dumps(board), an_hour_ago
    db.session.commit()
    # Another worker, with nothing in memory: it must not count while the page waits.
    app.extensions["clearpath_cache"] = TTLCache(60)
    jobs = []
    monkeypatch.setattr(cache, "in_background", jobs.append)  # kept_count's rebuilds
    monkeypatch.setattr(dashboard, "_build", lambda *args: (_ for _ in ()).throw(
        AssertionError("counted while the viewer waited")))
    page = client.get("/dashboard", headers=HTMX).text
    assert f"Counted at {board.counted_at}." in page and board.counted_at.startswith(
        f"{an_hour_ago:%H:%M} UTC")
    assert len(jobs) == 1  # the new figures are on their way
    # A snapshot saved before boards said when they were counted is still shown, without it.
    del board.__dict__["built_at"]
    assert pickle.loads(pickle.dumps(board)).built_at is None
