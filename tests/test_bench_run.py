"""The bench's one command (bench/run.py): it seeds the databases it needs at the same time,
and leaves those already seeded alone."""

import sqlite3

import pytest

from bench import run as bench_run


def _count(path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM observation").fetchone()[0]


def test_databases_are_seeded_together_and_once(tmp_path):
    urls = {"one": f"sqlite:///{tmp_path / 'one.sqlite3'}",
            "two": f"sqlite:///{tmp_path / 'two.sqlite3'}"}
    assert bench_run.ensure_seeded(urls, 300, reseed=False, logs=tmp_path) == ["one", "two"]

    assert _count(tmp_path / "one.sqlite3") == _count(tmp_path / "two.sqlite3") == 300
    for name in urls:
        assert "seeded 300 observations" in (tmp_path / f"seed-{name}.log").read_text()
    # Seeded already: neither is seeded again (its log stays as it was), only migrated.
    (tmp_path / "seed-one.log").write_text("kept")
    assert bench_run.ensure_seeded(urls, 300, reseed=False, logs=tmp_path) == []
    assert (tmp_path / "seed-one.log").read_text() == "kept"
    assert _count(tmp_path / "one.sqlite3") == 300


def test_a_failed_seed_stops_the_run_with_its_log(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    urls = {"broken": f"sqlite:///{tmp_path / 'a-file' / 'bench.sqlite3'}"}
    with pytest.raises(RuntimeError, match="seeding failed: broken"):
        bench_run.ensure_seeded(urls, 300, reseed=False, logs=tmp_path)


def test_an_endpoints_runs_alternate_with_its_floors_and_its_ratio_uses_them(monkeypatch, tmp_path):
    calls = []
    rates = iter([500, 300, 700, 320, 400, 310, 99])  # floor, app, floor, app, floor, app, 1-conn

    def fake_wrk(url, script, seconds, connections, workdir):
        calls.append((url, connections))
        return {"requests": next(rates) * 2, "duration_us": 2_000_000, "connect": 0, "read": 0,
                "write": 0, "status": 0, "timeout": 0, "p50": 9000, "p95": 20000, "p99": 30000}

    monkeypatch.setattr(bench_run, "run_wrk", fake_wrk)
    monkeypatch.setattr(bench_run, "timed_request", lambda base, e, timeout: (200, 0.01))
    floor = bench_run.Endpoint("bare select (50 rows, HTML)", "/bare/select", "", bare=True)
    feed = bench_run.Endpoint("GET /feed (first page)", "/feed", "", floor.name)
    measured = bench_run.measure("http://app", feed, 6, 8, tmp_path, [("http://bare", floor)])

    assert [url for url, _ in calls] == ["http://bare/bare/select", "http://app/feed"] * 3 + [
        "http://app/feed"]
    assert calls[-1][1] == 1  # the last run is the one-connection latency
    assert (measured.rps, measured.floor_rps) == (320, {floor.name: 700})
    # The ratio is to the floor's runs of the same minute, not to the floor's own row.
    rows = {"bare select (50 rows, HTML)": bench_run.Measure(floor, rps=1000.0)}
    assert bench_run.ratio_to_floor(measured, rows) == pytest.approx(320 / 700)
    measured.floor_rps = {}
    assert bench_run.ratio_to_floor(measured, rows) == pytest.approx(0.32)
    assert bench_run.ratio_to_floor(rows["bare select (50 rows, HTML)"], rows) is None


def test_a_second_floor_is_run_between_too_and_shown_beside_the_goals(monkeypatch, tmp_path):
    """The capture form is shown against the bare capture (the same rows, no app) as well as
    against its goal's bare insert: each floor's runs alternate with the endpoint's."""
    calls = []
    rates = {"/bare/insert": iter([1000, 1200, 1100]), "/bare/capture": iter([400, 500, 450]),
             "/capture": iter([100, 150, 120, 40])}

    def fake_wrk(url, script, seconds, connections, workdir):
        path = url.removeprefix("http://bare").removeprefix("http://app")
        calls.append(path)
        return {"requests": next(rates[path]) * 2, "duration_us": 2_000_000, "connect": 0,
                "read": 0, "write": 0, "status": 0, "timeout": 0, "p50": 9000, "p95": 20000,
                "p99": 30000}

    monkeypatch.setattr(bench_run, "run_wrk", fake_wrk)
    monkeypatch.setattr(bench_run, "timed_request", lambda base, e, timeout: (200, 0.01))
    insert = bench_run.Endpoint("bare insert", "/bare/insert", "", bare=True)
    bare_capture = bench_run.Endpoint(bench_run.BARE_CAPTURE, "/bare/capture", "", bare=True)
    capture = bench_run.Endpoint("POST /capture (form)", "/capture", "", insert.name,
                                 also=bare_capture.name)
    measured = bench_run.measure("http://app", capture, 6, 8, tmp_path,
                                 [("http://bare", insert), ("http://bare", bare_capture)])

    assert calls == ["/bare/insert", "/bare/capture", "/capture"] * 3 + ["/capture"]
    assert measured.floor_rps == {insert.name: 1200, bare_capture.name: 500}
    run = bench_run.DatabaseRun("sqlite", None, [measured], (0, 0, 0), (0, 0, 0), 1.0, [])
    assert "| 0.12; 0.30 × bare capture" in bench_run.table(run)
    assert bench_run.verdicts(run) == [
        "MISSED: POST /capture (form) at 0.12 × bare insert (goal ≥ 0.6); 0.30 × bare capture "
        "(a call, its barrier, its audit event) (the same rows, no app; not a goal)"]
