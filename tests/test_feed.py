"""The HQ insight feed: newest first, filters, scope, and cheap live updates."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.feed import services as feed_services
from webapp.models import Barrier

from .sql import with_statements

HTMX = {"HX-Request": "true"}


def _poll_url(html: str) -> str:
    return re.search(r'id="feed-poll"[^>]*hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_feed_lists_newest_first(client, as_role, observe):
    observe(note="first call")
    observe(note="second call")
    as_role("hq_brand")
    page = client.get("/feed").text
    assert page.index("second call") < page.index("first call")


def test_a_feed_page_is_read_in_one_statement_with_every_entrys_barriers(
        client, as_role, observe):
    observe(barriers=["CLN-BIO-001", "ACC-PA-002"], note="two barriers")
    for n in range(3):
        observe(barriers=["ACC-PA-002"], note=f"call {n}")
    as_role("hq_brand")
    client.get("/feed", headers=HTMX)  # the user's first page loads reference data once
    html, statements = with_statements(lambda: client.get("/feed", headers=HTMX).text)
    reads = [s for s in statements if "observation" in s.lower()]
    assert len(reads) == 1, reads  # the page, its HCPs, authors and barriers: one round trip
    entry = html[html.rindex('<li class="feed-item"', 0, html.index("two barriers")):
                 html.index("two barriers")]
    assert re.findall(r"/plays/([A-Z-]+\d+)", entry) == ["ACC-PA-002", "CLN-BIO-001"]
    assert all(f"call {n}" in html for n in range(3))


def test_the_ids_a_filter_names_are_looked_up_once_a_minute(app, client, as_role, observe):
    from webapp.cache import TTLCache

    observe(barriers=["ACC-PA-002"], note="access call", brand="ONC")
    observe(barriers=["CLN-BIO-001"], note="clinical call", brand="ONC")
    as_role("hq_brand")
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    url = "/feed?brand=ONC&category=access&territory=T1"
    first = client.get(url, headers=HTMX).text
    again, statements = with_statements(lambda: client.get(url, headers=HTMX).text)
    assert "access call" in again and "clinical call" not in again and again == first
    looked_up = [s for s in statements if s.lstrip().upper().startswith("SELECT")
                 and "observation" not in s.lower() and "user" not in s.lower()]
    assert looked_up == []  # brand, territory and the category's barriers: from the cache


def test_feed_filters_by_territory_category_brand_and_date(client, as_role, observe, world):
    observe(hcp="H1", barriers=["ACC-PA-002"], note="t1 access", brand="ONC")
    observe(hcp="H2", role="district_manager", barriers=["CLN-BIO-001"], note="t2 clinical")
    observe(hcp="H1", barriers=["CLN-BIO-001"], note="old one", minutes_ago=60 * 24 * 10)
    as_role("hq_brand")

    def notes(query):
        html = client.get(f"/feed?{query}", headers=HTMX).text
        return {n for n in ("t1 access", "t2 clinical", "old one") if n in html}

    assert notes("territory=T2") == {"t2 clinical"}
    assert notes("category=access") == {"t1 access"}
    assert notes("brand=ONC") == {"t1 access"}
    # An unknown code matches nothing (not the calls that have no brand or territory).
    assert notes("brand=NOPE") == set() and notes("territory=T9") == set()
    assert notes("barrier=ACC-PA-002&category=clinical") == set()
    since = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    assert notes(f"date_from={since}") == {"t1 access", "t2 clinical"}
    old = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    assert notes(f"date_from={old}&date_to={old}") == {"old one"}


def _pages(client, url: str) -> list[str]:
    """The notes of every page of the feed from `url` on, in the order shown."""
    seen = []
    while url:
        page = client.get(url).text
        seen += re.findall(r"call number (\d\d)", page)
        older = re.search(r'href="(/feed\?[^"]*before=[^"]+)"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    return seen


def test_dates_page_exactly_whether_their_calls_arrived_late_or_not(
        client, as_role, observe):
    """Dates are walked back from a day after they end, and the calls that arrived later are
    read from their own index. Either way every call of the dates is listed once, newest
    received first: a call synced months late, and one whose device clock ran minutes ahead
    of the server (received before the time it names) included."""
    from webapp.models import Observation

    today = datetime.now(UTC).date()
    past = today - timedelta(days=200)
    for n in range(30):  # a week long past: synced today, some of it with the week itself
        call = observe(note=f"call number {n:02d}", minutes_ago=60 * 24 * 200 - 10 * n)
        if n < 5:
            call.received_at = call.observed_at + timedelta(hours=1)
    for n in range(30, 60):  # today
        call = observe(note=f"call number {n:02d}", minutes_ago=0)
        call.observed_at = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(
            minutes=n - 29)
        call.received_at = call.observed_at - timedelta(minutes=5)  # its clock ran ahead
    observe(note="outside both", minutes_ago=60 * 24 * 100)
    db.session.commit()
    as_role("hq_brand")
    ordered = list(db.session.scalars(
        db.select(Observation.note).where(Observation.note.startswith("call number"))
        .order_by(Observation.received_at.desc(), Observation.id.desc())))
    week_ago = past - timedelta(days=3)
    past_week = _pages(client, f"/feed?date_from={week_ago}&date_to={past + timedelta(days=3)}")
    up_to_then = _pages(client, f"/feed?date_to={past + timedelta(days=3)}")
    today_only = _pages(client, f"/feed?date_from={today}&date_to={today}")
    assert past_week == up_to_then == [note[-2:] for note in ordered if int(note[-2:]) < 30]
    assert today_only == [note[-2:] for note in ordered if int(note[-2:]) >= 30]
    late = set(db.session.scalars(db.select(Observation.note).where(Observation.arrived_late)))
    # Synced today, 200 and 100 days after they happened.
    assert late == {f"call number {n:02d}" for n in range(5, 30)} | {"outside both"}


def test_a_call_received_more_than_a_day_after_it_happened_arrived_late(observe):
    assert not observe(minutes_ago=60 * 23).arrived_late
    late = observe(minutes_ago=60 * 25)
    assert late.arrived_late
    late.received_at = late.observed_at + timedelta(hours=2)  # kept true to its times
    db.session.commit()
    assert not late.arrived_late


def test_rare_and_common_barriers_page_exactly_each_read_its_own_way(
        client, as_role, observe, monkeypatch):
    """A barrier named in few calls has its calls read through its links and sorted; a common
    one is found by walking the feed. Either way every call naming it is listed once, newest
    received first."""
    from webapp.models import Observation

    monkeypatch.setattr(feed_services, "RARE_MENTIONS", 35)
    for n in range(30):
        observe(barriers=["ACC-PA-001"], note=f"call number {n:02d}")
    for n in range(30, 70):
        observe(barriers=["CLN-BIO-001"], note=f"call number {n:02d}")
    as_role("hq_brand")
    ordered = [note[-2:] for note in db.session.scalars(
        db.select(Observation.note).order_by(Observation.received_at.desc(), Observation.id.desc()))]
    assert _pages(client, "/feed?barrier=ACC-PA-001") == [n for n in ordered if int(n) < 30]
    assert _pages(client, "/feed?barrier=CLN-BIO-001") == [n for n in ordered if int(n) >= 30]
    rare, common = ([db.session.scalar(db.select(Barrier.id).where(Barrier.code == code))]
                    for code in ("ACC-PA-001", "CLN-BIO-001"))
    assert feed_services._rarely_named(rare) and not feed_services._rarely_named(common)


def test_sqlite_plans_rare_and_common_barriers_by_their_indexes(
        client, as_role, observe, monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by its table sizes")
    monkeypatch.setattr(feed_services, "RARE_MENTIONS", 3)
    observe(barriers=["ACC-PA-001"], note="rare")
    for _ in range(3):
        observe(barriers=["CLN-BIO-001"], note="common")
    as_role("hq_brand")

    def plan(code) -> str:
        _, statements = with_statements(lambda: client.get(f"/feed?barrier={code}", headers=HTMX))
        page = _page_statement(statements)
        return " / ".join(row[-1] for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + page, tuple(range(page.count("?")))))

    rare = plan("ACC-PA-001")
    assert "ix_observation_barrier_barrier_id (barrier_id=?)" in rare, rare
    assert rare.count("TEMP B-TREE FOR ORDER BY") == 2, rare  # the page's, then the entries'
    common = plan("CLN-BIO-001")
    assert "SCAN observation USING INDEX ix_observation_feed" in common, common
    assert common.count("TEMP B-TREE FOR ORDER BY") == 1, common


def test_sqlite_lists_flagged_calls_in_the_safety_index_order(client, as_role, observe):
    """Flagged calls are a sliver of the feed: the safety index gives them in the feed's
    order (received time, then id), so a page reads them alone, no walk and no sort."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by its table sizes")
    observe(note="patient had a rash after the first dose")
    as_role("hq_brand")
    _, statements = with_statements(lambda: client.get("/feed?safety=true", headers=HTMX))
    page = _page_statement(statements)
    plan = " / ".join(row[-1] for row in db.session.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN " + page, tuple(range(page.count("?")))))
    assert "SEARCH observation USING INDEX ix_observation_safety (safety_flag=?)" in plan, plan
    assert plan.count("TEMP B-TREE") == 1, plan  # the entries' sort only


def _without_tokens(page: str) -> str:
    return re.sub(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]+', r"\1", page)


def test_how_often_a_barrier_is_named_is_counted_once_a_minute(app, client, as_role, observe):
    from webapp.cache import TTLCache

    observe(barriers=["ACC-PA-001"], note="rare")
    as_role("hq_brand")
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    first, counted = with_statements(lambda: client.get("/feed?barrier=ACC-PA-001").text)
    again, statements = with_statements(lambda: client.get("/feed?barrier=ACC-PA-001").text)
    # The same page but for its CSRF token, which is signed with the second it was made in.
    assert "rare" in again and _without_tokens(again) == _without_tokens(first)
    assert any("count(" in s.lower() and "observation_barrier" in s for s in counted)
    assert not any("count(" in s.lower() for s in statements), statements


def test_sqlite_plans_each_way_of_reading_dates_by_its_index(client, as_role, observe):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by its table sizes")
    observe(note="one call")
    as_role("hq_brand")
    today = datetime.now(UTC).date()

    def plan(start, end, more="") -> str:
        _, statements = with_statements(
            lambda: client.get(f"/feed?date_from={start}&date_to={end}{more}", headers=HTMX))
        page = _page_statement(statements)
        return " / ".join(row[-1] for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + page, tuple(range(page.count("?")))))

    # Dates that end walk the feed back from a day after their end, and read the calls that
    # arrived later from their own index, a brand's too (SQLite would walk the brand's feed
    # from its newest call): never every call of the dates, sorted.
    recent = plan(today - timedelta(days=7), today)
    assert "SEARCH observation USING INDEX ix_observation_feed (received_at>? AND received_at<?)" \
        in recent, recent
    assert "SEARCH observation USING INDEX ix_observation_late (observed_at>? AND observed_at<?)" \
        in recent, recent
    past = plan(today - timedelta(days=187), today - timedelta(days=180), "&brand=ONC")
    assert "ix_observation_brand_feed (brand_id=? AND received_at>? AND received_at<?)" in past
    assert "ix_observation_late (observed_at>? AND observed_at<?)" in past, past
    assert "ix_observation_period" not in recent + past


def test_a_commercial_viewer_filtering_by_a_medical_role_finds_nothing_without_looking(
        client, as_role, observe):
    observe(role="msl", note="medical insight")
    observe(note="field insight")
    as_role("hq_brand")
    html, statements = with_statements(lambda: client.get("/feed?role=msl", headers=HTMX).text)
    assert "medical insight" not in html and "field insight" not in html
    assert "author_role =" not in _page_statement(statements)  # a false condition instead
    # With dates, too: SQLite could not be told which index to read a false condition by.
    dated = client.get(f"/feed?role=msl&date_to={datetime.now(UTC).date()}", headers=HTMX)
    assert dated.status_code == 200 and "medical insight" not in dated.text
    as_role("head_of_medical")
    assert "medical insight" in client.get("/feed?role=msl", headers=HTMX).text


def test_bad_filter_is_reported_next_to_the_field(client, as_role, observe):
    observe(note="still listed")
    as_role("hq_brand")
    response = client.get("/feed?date_from=yesterday")
    assert response.status_code == 422
    assert "Use a date like 2026-11-01." in response.text
    assert "still listed" in response.text
    response = client.get("/feed?date_from=2026-11-10&date_to=2026-11-01")
    assert "The start date is after the end date." in response.text


def test_feed_is_scoped_for_district_managers(client, as_role, observe):
    observe(hcp="H1", note="in district")
    observe(hcp="H3", role="sales_rep_t3", note="other district")
    as_role("district_manager")
    page = client.get("/feed").text
    assert "in district" in page and "other district" not in page


def test_updates_cost_nothing_when_nothing_changed(client, as_role, observe):
    observe(note="already seen")
    as_role("hq_brand")
    poll = _poll_url(client.get("/feed").text)
    response = client.get(poll, headers=HTMX)
    assert response.status_code == 204 and response.data == b""


def test_updates_prepend_new_items_and_move_the_poll_cursor(client, as_role, observe):
    observe(note="already seen")
    as_role("hq_brand")
    poll = _poll_url(client.get("/feed").text)
    observe(note="brand new insight")
    response = client.get(poll, headers=HTMX)
    assert response.status_code == 200
    assert "brand new insight" in response.text and "already seen" not in response.text
    assert 'hx-swap-oob="true"' in response.text
    assert client.get(_poll_url(response.text), headers=HTMX).status_code == 204


def test_updates_respect_filters(client, as_role, observe):
    as_role("hq_brand")
    poll = _poll_url(client.get("/feed?territory=T2", headers=HTMX).text)
    observe(hcp="H1", note="not T2")
    assert client.get(poll, headers=HTMX).status_code == 204


def test_older_pages_neither_skip_nor_repeat(client, as_role, observe):
    for n in range(30):
        observe(note=f"call number {n:02d}")
    as_role("hq_brand")
    first = client.get("/feed").text
    older = re.search(r'href="(/feed\?before=[^"]+)"', first).group(1).replace("&amp;", "&")
    observe(note="arrived in between")
    second = client.get(older).text
    seen = re.findall(r"call number (\d\d)", first) + re.findall(r"call number (\d\d)", second)
    assert sorted(seen) == [f"{n:02d}" for n in range(30)]


def test_a_page_statement_is_built_once_per_scope_and_filters(app, client, as_role, observe,
                                                               monkeypatch):
    """Kept a minute, a page's statement serves every cursor: pages still follow one another
    exactly, and a district manager never gets the statement built for HQ's scope."""
    from webapp.cache import TTLCache
    from webapp.feed import services

    built = []
    entries = services._entries
    monkeypatch.setattr(services, "_entries", lambda page: built.append(1) or entries(page))
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    for n in range(60):
        observe(hcp="H1" if n % 2 else "H3", role="sales_rep" if n % 2 else "sales_rep_t3",
                note=f"call number {n:02d}")
    as_role("hq_brand")
    seen, url = [], "/feed"
    while url:
        page = client.get(url).text
        seen += re.findall(r"call number (\d\d)", page)
        older = re.search(r'href="(/feed\?before=[^"]+)"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert sorted(seen) == [f"{n:02d}" for n in range(60)]
    assert len(built) == 2  # the first page's, then one for every page after a cursor
    as_role("district_manager")
    page = client.get("/feed").text
    assert len(built) == 3
    assert "call number 59" in page and "call number 58" not in page  # T3 is another district


def test_word_search_pages_neither_skip_nor_repeat(client, as_role, observe):
    """The word search orders by an expression on PostgreSQL (see newest_first): its pages
    must still follow one another exactly."""
    for n in range(30):
        observe(note=f"zebra form number {n:02d}")
    observe(note="nothing to see")
    as_role("hq_brand")
    first = client.get("/feed?q=ZEBRA").text
    older = re.search(r'href="(/feed\?[^"]*before=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).text
    seen = re.findall(r"zebra form number (\d\d)", first) + re.findall(
        r"zebra form number (\d\d)", second)
    assert sorted(seen) == [f"{n:02d}" for n in range(30)]
    assert "nothing to see" not in first + second



def test_postgresql_pages_after_a_cursor_or_filtered_use_their_generic_plan(
        client, as_role, observe):
    """Asked for, within the page's own transaction, never for the connection's next user; and
    a prepared statement run by its generic plan (psycopg prepares on the fifth run) still
    pages exactly."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    for n in range(40):
        observe(barriers=["ACC-PA-002"] if n % 2 else ["CLN-BIO-001"], note=f"call number {n:02d}")
    as_role("hq_brand")
    _, statements = with_statements(lambda: client.get("/feed", headers=HTMX))
    assert feed_services.GENERIC_PLAN not in statements  # the plain first page: no round trip
    seen = []
    for _ in range(3):  # the same pages again and again: their statements get prepared
        seen, url = [], "/feed?category=access"
        while url:
            page, statements = with_statements(lambda url=url: client.get(url).text)
            asked = statements.index(feed_services.GENERIC_PLAN)
            assert asked < statements.index(_page_statement(statements))
            seen += re.findall(r"call number (\d\d)", page)
            older = re.search(r'href="(/feed\?[^"]*before=[^"]+)"', page)
            url = older.group(1).replace("&amp;", "&") if older else None
        assert sorted(seen) == [f"{n:02d}" for n in range(1, 40, 2)]
    show = db.text("SHOW plan_cache_mode")
    assert db.session.execute(show).scalar() == "force_generic_plan"  # the last page's transaction
    db.session.commit()  # as a request's end does (tests keep one app context between requests)
    assert db.session.execute(show).scalar() == "auto"


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's note index (PostgreSQL's trigram index is migration 0007's)")


def _page_statement(statements) -> str:
    return next(s for s in statements if s.startswith("SELECT page."))


def test_sqlite_word_search_reads_only_the_calls_its_index_finds(
        client, as_role, observe, sqlite_only, monkeypatch):
    for n in range(3):
        observe(note=f"rare quokka sighting {n}")
    for n in range(5):
        observe(note=f"common wombat {n}")
    observe(note="100% of PAs resubmitted")
    as_role("hq_brand")
    monkeypatch.setattr(feed_services, "FEW_MATCHES", 4)

    page, statements = with_statements(lambda: client.get("/feed?q=QUOKKA+sight").text)
    assert len(re.findall("rare quokka sighting", page)) == 3 and "wombat" not in page
    assert any(" MATCH " in s for s in statements)
    assert "observation.id IN (" in _page_statement(statements)  # the index's few candidates

    # More matches than FEW_MATCHES: a common word, found by reading the feed newest first.
    page, statements = with_statements(lambda: client.get("/feed?q=wombat").text)
    assert len(re.findall("common wombat", page)) == 5
    assert "observation.id IN (" not in _page_statement(statements)

    # A two-letter word is not in the trigram index: the notes themselves are read.
    page, statements = with_statements(lambda: client.get("/feed?q=pa").text)
    assert "100% of PAs" in page and not any(" MATCH " in s for s in statements)
    # Signs that mean something to LIKE or to FTS5 are plain characters of a word.
    assert "100% of PAs" in client.get("/feed?q=100%25").text
    assert "100% of PAs" not in client.get("/feed?q=100_").text
    answer = client.get('/feed?q=say"hi')
    assert answer.status_code == 200 and "No observations match" in answer.text


def test_sqlite_without_the_note_index_still_searches(client, as_role, observe, sqlite_only):
    """An SQLite without FTS5's trigram tokenizer (before 3.34) is migrated without the index:
    its word search reads the notes, as before."""
    observe(note="rare quokka sighting")
    observe(note="nothing to see")
    connection = db.session.connection()
    for trigger in ("insert", "delete", "update"):
        connection.exec_driver_sql(f"DROP TRIGGER observation_note_search_{trigger}")
    for table in ("observation_note_search", "observation_note_search_key"):
        connection.exec_driver_sql(f"DROP TABLE {table}")
    db.session.commit()
    as_role("hq_brand")
    page, statements = with_statements(lambda: client.get("/feed?q=quokka").text)
    assert "rare quokka sighting" in page and "nothing to see" not in page
    assert not any(" MATCH " in s for s in statements)
    observe(note="another quokka")  # writes need no index either
    assert "another quokka" in client.get("/feed?q=quokka").text


def test_sqlite_note_index_follows_every_write_to_a_note(observe, sqlite_only):
    observation = observe(note="first words")
    connection = db.session.connection()
    connection.exec_driver_sql("UPDATE observation SET note = 'second thoughts' WHERE id = ?",
                               (str(observation.id),))
    assert feed_services._few_note_matches(["second"]) == [str(observation.id)]
    assert feed_services._few_note_matches(["first"]) == []
    for table in ("observation_barrier", "observation"):  # as a restore with --replace does
        connection.exec_driver_sql(f"DELETE FROM {table}")
    assert feed_services._few_note_matches(["second"]) == []
    count = "SELECT count(*) FROM observation_note_search_key"
    assert connection.exec_driver_sql(count).scalar() == 0


def test_filter_form_keeps_the_chosen_options_and_shows_every_choice(client, as_role, observe):
    observe(barriers=["ACC-PA-002"], note="chosen")
    as_role("hq_brand")
    page = client.get("/feed?territory=T2&category=access&barrier=ACC-PA-002").text
    chosen = re.findall(r'<option value="([^"]*)" selected>', page)
    assert chosen == ["T2", "access", "ACC-PA-002"]
    assert '<option value="T1">T1 · ' in page and '<option value="CLN-BIO-001">CLN-BIO-001 · ' in page
    # The default page marks nothing, and a code that is no option marks nothing either.
    assert "selected" not in client.get("/feed").text
    assert "selected" not in client.get("/feed?barrier=NOPE").text


def test_choices_mark_the_escaped_code_once():
    from markupsafe import Markup

    from webapp.feed.services import Choices, Option

    markup = Markup('<option value="a&amp;b">A</option><option value="a&amp;b">again</option>')
    choices = Choices([Option("a&b", "A")], markup)
    assert choices.html("a&b") == ('<option value="a&amp;b" selected>A</option>'
                                   '<option value="a&amp;b">again</option>')
    assert choices.html(None) is markup and choices.html('"><script>') == markup


def test_an_entry_shows_what_changed_since_it_was_last_rendered(client, as_role, observe, world):
    from webapp.extensions import db
    from webapp.fragments import _rendered
    from webapp.models import Barrier, Role

    observe(barriers=["ACC-PA-002"], note="kept entry")
    as_role("hq_brand")
    client.get("/feed")
    hits = _rendered.cache_info().hits
    client.get("/feed")  # the same entry, unchanged: its markup is reused
    assert _rendered.cache_info().hits == hits + 1

    world["hcps"]["H1"].name = "Dr Ada Patel-Moreau"
    db.session.scalar(db.select(Barrier).where(Barrier.code == "ACC-PA-002")).name = "PA bounced"
    db.session.get(Role, "sales_rep").name = "Territory rep"
    db.session.commit()
    page = client.get("/feed").text
    assert "Dr Ada Patel-Moreau" in page and ">PA bounced</a>" in page
    assert "(Territory rep)" in page and "kept entry" in page


def test_the_updates_url_opened_as_a_page_is_the_feed_with_its_filters(client, as_role):
    as_role("hq_brand")
    response = client.get("/feed/updates?territory=T2&after=x")
    assert response.status_code == 303
    assert response.headers["Location"] == "/feed?territory=T2"


def test_sqlite_exports_dates_long_past_by_their_own_index(client, as_role, observe, sqlite_only):
    """A page walks the feed to its dates; an export reads every call of them, and their own
    index finds them (a week six months back: 1.4–1.9 s for 27,743 rows at 1M calls, where the
    walk through every call received since took 3.4 s)."""
    observe(note="one call", minutes_ago=60 * 24 * 183)
    as_role("hq_brand")
    today = datetime.now(UTC).date()
    url = (f"/feed/export.csv?date_from={today - timedelta(days=187)}"
           f"&date_to={today - timedelta(days=180)}")
    response, statements = with_statements(lambda: client.get(url).data)
    assert b"one call" in response
    export = next(s for s in statements if "observation_barrier" in s and "IN (SELECT" in s)
    plan = " / ".join(row[-1] for row in db.session.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN " + export, tuple(range(export.count("?")))))
    assert "ix_observation_period (observed_at>? AND observed_at<?)" in plan, plan
