"""The two metrics, checked against values computed by hand on a small fixture."""

import re
from datetime import timedelta

import pytest

from webapp.metrics.services import percentile, success_rates, time_to_play
from webapp.plays.services import record_outcome, run_play

from .sql import with_statements


@pytest.fixture
def three_runs(world, observe):
    """ACC-PA-002 observed three times; its play ran 2 h, 10 h and 48 h later."""
    rep = world["users"]["sales_rep"]
    runs = []
    for delay in (2, 10, 48):
        observation = observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=60 * 24 * 30)
        runs.append(run_play(rep, observation, "ACC-PA-002",
                             observation.observed_at + timedelta(hours=delay), "leave_behind",
                             "given"))
    return runs


def test_nearest_rank_percentile():
    assert percentile([2, 10, 48], 0.9) == 48
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([5], 0.9) == 5


def test_time_to_play_median_and_p90(three_runs, world):
    (group,) = time_to_play(world["users"]["hq_brand"], "barrier")
    assert group.count == 3
    assert group.median == pytest.approx(10.0)
    assert group.p90 == pytest.approx(48.0)
    (by_role,) = time_to_play(world["users"]["hq_brand"], "role")
    assert by_role.label == "sales_rep"


def test_success_rate_counts_judged_outcomes_only(three_runs, world):
    rep = world["users"]["sales_rep"]
    for run, outcome in zip(three_runs, ("resolved", "not_resolved", "too_early"), strict=True):
        record_outcome(rep, run, outcome)
    (group,) = success_rates(world["users"]["hq_brand"], "category")
    assert (group.resolved, group.not_resolved, group.too_early, group.judged) == (1, 1, 1, 2)
    assert group.rate == pytest.approx(0.5)


def test_seeing_the_barrier_again_counts_against_the_play(three_runs, world, observe):
    observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=5)  # came back, same HCP
    (group,) = success_rates(world["users"]["hq_brand"], "barrier")
    assert group.not_resolved == 3 and group.rate == 0.0


LABEL_TABLES = {"barrier", "category", "play", "territory", "brand"}


@pytest.mark.parametrize("dimension, tables", [
    ("barrier", {"barrier"}), ("category", {"barrier", "category"}), ("play", {"play"}),
    ("role", set()), ("territory", {"territory"}), ("brand", {"brand"}),
])
def test_a_dimension_joins_only_what_its_label_reads(three_runs, world, dimension, tables):
    """Each join is a look-up per run: 219,000 of them at 1M calls."""
    hq = world["users"]["hq_brand"]
    (success,), counting = with_statements(lambda: success_rates(hq, dimension))
    (speed,), timing = with_statements(lambda: time_to_play(hq, dimension))
    assert success.label == speed.label and speed.count == 3
    for statement in (next(s for s in statements if "play_run" in s)
                      for statements in (counting, timing)):
        assert set(re.findall(r"JOIN (\w+)", statement)) & LABEL_TABLES == tables, statement
        # The run keeps its call's facts: no run is joined to its call's row.
        assert "JOIN observation ON" not in statement and "observation.author_role" not in statement


def test_a_run_keeps_its_calls_facts_whoever_stores_it(three_runs, world):
    run = three_runs[0]
    call = run.observation
    assert (run.call_territory_id, run.call_author_role, run.call_hcp_id, run.call_brand_id,
            run.call_observed_at) == (call.territory_id, call.author_role, call.hcp_id,
                                      call.brand_id, call.observed_at)


def test_metrics_page_shows_both_tables_in_scope(client, as_role, login, three_runs, world):
    as_role("hq_brand")
    page = client.get("/metrics?by=territory").text
    assert "<th scope=\"row\">T1</th><td>3</td><td>10.0</td><td>48.0</td>" in page
    fragment = client.get("/metrics?by=brand", headers={"HX-Request": "true"}).text
    assert 'id="metric-tables"' in fragment and "<html" not in fragment
    client.post("/logout")
    login(world["users"]["sales_rep_t3"].email)
    assert "No play has run yet." in client.get("/metrics").text  # T1 is not theirs


def test_the_metrics_are_counted_once_per_scope_and_shown_with_their_time(
        app, client, as_role, login, three_runs, world, monkeypatch):
    """Counting every run takes seconds at 1M calls: a scope's figures are counted once, shared
    with another worker through their snapshot, and shown with the time they were counted;
    another scope gets its own."""
    from webapp.cache import TTLCache
    from webapp.metrics import services

    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    as_role("hq_brand")
    page = client.get("/metrics?by=territory").text
    assert "<th scope=\"row\">T1</th><td>3</td><td>10.0</td><td>48.0</td>" in page
    assert re.search(r"Counted at \d\d:\d\d UTC, over every play run in your scope", page)
    app.extensions["clearpath_cache"] = TTLCache(60)  # another worker, nothing in memory
    with monkeypatch.context() as patched:
        patched.setattr(services, "time_to_play", lambda *args: pytest.fail("counted again"))
        again = client.get("/metrics?by=territory").text
    assert "<th scope=\"row\">T1</th><td>3</td><td>10.0</td><td>48.0</td>" in again
    client.post("/logout")
    login(world["users"]["sales_rep_t3"].email)
    assert "No play has run yet." in client.get("/metrics?by=territory").text
