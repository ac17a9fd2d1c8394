"""Logging barriers after a call: htmx fragments, the plain form, errors and idempotence."""

import re
import uuid

from webapp.extensions import db
from webapp.models import AuditEvent, Barrier, Observation, utcnow

from .conftest import iso
from .sql import verbs, with_statements

HTMX = {"HX-Request": "true"}


def _count():
    return db.session.scalar(db.select(db.func.count(Observation.id)))


def _form(**overrides):
    data = {"id": str(uuid.uuid4()), "hcp": "H1", "barrier": ["ACC-PA-002"], "note": "",
            "observed_at": iso(), "brand": "ONC"}
    data.update(overrides)
    return data


def test_start_page_lists_recent_hcps_first(client, as_role, observe):
    observe("sales_rep", hcp="H1")
    as_role("sales_rep")
    page = client.get("/capture").text
    assert "Recent" in page
    assert 'href="/capture?hcp=H1"' in page


def test_recent_hcps_come_from_the_authors_latest_calls_newest_first(
        client, as_role, world, observe, monkeypatch):
    import webapp.capture.services as capture
    from webapp.models import HCP

    t1 = world["territories"][0]
    db.session.add_all([HCP(external_id=code, name=f"Dr {code}", specialty="Oncology",
                            account="Harbor", territory=t1)
                        for code in ("H7", "H8")])
    db.session.commit()
    observe("sales_rep", hcp="H7", minutes_ago=300)  # older than the window below
    observe("sales_rep", hcp="H1", minutes_ago=200)
    observe("sales_rep", hcp="H8", minutes_ago=100)
    observe("sales_rep", hcp="H1", minutes_ago=10)
    monkeypatch.setattr(capture, "RECENT_CALLS", 3)
    as_role("sales_rep")
    page = client.get("/capture").text
    recent = page[page.index("<h3>Recent</h3>"):page.index("</div>", page.index("<h3>Recent"))]
    found = re.findall(r'href="/capture\?hcp=(H\d)"', recent)
    assert found == ["H1", "H8"]  # newest first, each once; H7 is past the latest 3 calls


def test_hcp_type_ahead_is_a_fragment_over_the_territory(client, as_role):
    as_role("sales_rep")
    response = client.get("/capture/hcps?hcp_q=harbor", headers=HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert not response.text.lstrip().startswith("<!doctype")
    assert 'id="hcp-results"' in response.text
    assert "Ada Patel" in response.text
    # Dr Okafor is in T2, outside a T1 rep's territory.
    assert "Okafor" not in client.get("/capture/hcps?hcp_q=okafor", headers=HTMX).text


def test_hcp_search_works_without_javascript(client, as_role):
    as_role("sales_rep")
    page = client.get("/capture?hcp_q=ada").text
    assert page.lstrip().startswith("<!doctype")
    assert "Ada Patel" in page


def test_barrier_filter_fragment_keeps_chosen_barriers(client, as_role):
    as_role("sales_rep")
    response = client.get(
        "/capture/barriers?hcp=H1&q=order+set&barrier=ACC-PA-002", headers=HTMX
    )
    fragment = response.text
    assert response.status_code == 200 and 'id="barrier-list"' in fragment
    assert "<html" not in fragment
    chosen = re.search(r'value="ACC-PA-002"\s+checked', fragment)
    assert chosen, "the chosen barrier stays checked while filtering"
    assert "order set" in fragment.lower()


def test_barrier_filters_by_category_and_journey_stage(client, as_role):
    as_role("sales_rep")
    fragment = client.get(
        "/capture/barriers?hcp=H1&category=systems&journey_stage=prescribing", headers=HTMX
    ).text
    codes = set(re.findall(r'name="barrier" value="([A-Z0-9-]+)"', fragment))
    assert codes and all(code.startswith("SYS-") for code in codes)


def test_capture_with_htmx_boost_creates_and_redirects_to_the_plays(client, as_role):
    as_role("sales_rep")
    form = _form(note="PA keeps bouncing")
    response = client.post("/capture", data=form, headers={**HTMX, "HX-Boosted": "true"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/observations/{form['id']}"
    observation = db.session.get(Observation, form["id"])
    assert [b.code for b in observation.barriers] == ["ACC-PA-002"]
    assert observation.note == "PA keeps bouncing" and observation.brand.code == "ONC"
    assert observation.author_role == "sales_rep" and observation.territory.code == "T1"
    page = client.get(response.headers["Location"]).text
    assert "Logged 1 barrier" in page and "Customer goal" in page


def test_capture_as_a_plain_form_post_without_javascript(client, as_role):
    as_role("frm")
    form = _form(barrier=["ACC-PA-002", "ACC-APL-001"])
    response = client.post("/capture", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "Logged 2 barriers" in response.text
    assert response.text.count('class="panel play"') == 2


def test_no_barrier_re_renders_the_form_with_an_inline_error(client, as_role):
    as_role("sales_rep")
    response = client.post("/capture", data=_form(barrier=[], note="keep me"))
    assert response.status_code == 422
    assert "Choose at least one barrier." in response.text or "Choose between 1" in response.text
    assert "keep me" in response.text  # nothing the user typed is lost
    assert _count() == 0


def test_unknown_barrier_and_long_note_are_refused_with_field_messages(client, as_role):
    as_role("sales_rep")
    response = client.post("/capture", data=_form(barrier=["NOPE-001"], note="x" * 1001))
    assert response.status_code == 422
    assert "Keep the note under 1000 characters." in response.text
    assert _count() == 0
    response = client.post("/capture", data=_form(barrier=["NOPE-001"]))
    assert response.status_code == 422
    assert "Unknown or retired barrier: NOPE-001." in response.text
    assert _count() == 0


def test_double_submit_is_idempotent(client, as_role):
    as_role("sales_rep")
    form = _form()
    first = client.post("/capture", data=form)
    second = client.post("/capture", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _count() == 1
    audits = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "observation_created")
    ).all()
    assert len(audits) == 1 and audits[0].entity_id == form["id"]


def test_a_new_call_is_stored_without_looking_for_its_id_first(client, as_role):
    """A call's id is almost always new: the form does not look for it before storing it (a
    double tap fails the insert and is answered as a replay: test_double_submit_is_idempotent)."""
    as_role("sales_rep")
    response, ran = with_statements(lambda: client.post("/capture", data=_form()))
    assert response.status_code == 303 and _count() == 1
    assert [s for s in ran if re.match(r"\s*SELECT\b.*\bFROM observation\b", s, re.S)] == []


def test_a_replay_that_would_no_longer_pass_is_still_answered_as_the_stored_call(client, as_role):
    """Its barrier retired since the first tap: the replay is still the call stored, not an
    error."""
    as_role("sales_rep")
    form = _form()
    first = client.post("/capture", data=form)
    db.session.scalar(db.select(Barrier).where(Barrier.code == "ACC-PA-002")).retired_at = utcnow()
    db.session.commit()
    again = client.post("/capture", data=form)
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _count() == 1


def test_reusing_an_id_for_different_content_is_refused(client, as_role):
    as_role("sales_rep")
    form = _form()
    client.post("/capture", data=form)
    response = client.post("/capture", data={**form, "note": "something else"})
    assert response.status_code == 422
    assert "already used for a different observation" in response.text
    assert db.session.get(Observation, form["id"]).note == ""


def test_future_time_is_refused(client, as_role):
    as_role("sales_rep")
    response = client.post("/capture", data=_form(observed_at="2999-01-01T10:00:00+00:00"))
    assert response.status_code == 422
    assert "cannot be in the future" in response.text
    assert _count() == 0


def test_the_form_carries_a_fresh_client_id_and_time(client, as_role):
    as_role("sales_rep")
    page = client.get("/capture?hcp=H1").text
    ids = re.findall(r'name="id" value="([0-9a-f-]{36})"', page)
    assert len(ids) == 1 and uuid.UUID(ids[0])
    assert re.search(r'name="observed_at" value="\d{4}-\d\d-\d\dT[\d:]+\+00:00"', page)


def test_the_brand_of_the_reps_latest_call_is_chosen_for_the_next(client, as_role, observe):
    as_role("sales_rep")
    assert 'value="ONC" checked' not in client.get("/capture?hcp=H1").text
    observe("sales_rep", brand="ONC", minutes_ago=60)
    observe("sales_rep", minutes_ago=90)  # older, no brand: the latest call decides
    assert 'value="ONC" checked' in client.get("/capture?hcp=H1").text
    observe("sales_rep", minutes_ago=10)  # the latest call named no brand
    assert 'value="ONC" checked' not in client.get("/capture?hcp=H1").text


def test_likely_barriers_for_the_hcp_come_first(client, as_role, observe):
    for _ in range(3):
        observe("frm", barriers=["ACC-APL-001"])
    as_role("sales_rep")
    page = client.get("/capture?hcp=H1").text
    likely = page.index("Likely for Dr Ada Patel")
    assert likely < page.index('value="ACC-APL-001"') < page.index("All barriers")


def test_the_hcps_own_barriers_outrank_the_territorys(world, observe):
    from webapp.capture.services import likely_barriers
    from webapp.models import HCP

    other = HCP(external_id="H9", name="Dr Other", specialty="Oncology", account="Elsewhere",
                territory=world["territories"][0], segment="loyal to competitor")
    db.session.add(other)
    db.session.commit()
    for _ in range(4):
        observe("frm", hcp="H9", barriers=["ACC-APL-001"])  # busy in the territory
    observe("frm", hcp="H1", barriers=["CLN-BIO-001"])  # this HCP's own, once
    rep, h1 = world["users"]["sales_rep"], world["hcps"]["H1"]
    codes = [b.code for b in likely_barriers(rep, h1)]
    assert codes[:2] == ["CLN-BIO-001", "ACC-APL-001"]
    # For an HCP of the same segment as H9, H9's barrier comes first.
    same_segment = HCP(external_id="H8", name="Dr Same", specialty="Oncology", account="Near",
                       territory=world["territories"][0], segment="loyal to competitor")
    db.session.add(same_segment)
    db.session.commit()
    assert [b.code for b in likely_barriers(rep, same_segment)][0] == "ACC-APL-001"


def test_likely_barriers_count_the_territory_once_and_the_hcp_live(app, world, observe):
    """Picking an HCP reads the territory's kept counts (a minute old at most) and counts only
    the HCP's own calls: a call about another HCP shows once the counts are rebuilt, one about
    this HCP at once."""
    from webapp.cache import TTLCache
    from webapp.capture.services import likely_barriers
    from webapp.models import HCP

    db.session.add(HCP(external_id="H9", name="Dr Other", specialty="Oncology", account="Far",
                       territory=world["territories"][0], segment="loyal to competitor"))
    db.session.commit()
    rep, h1 = world["users"]["sales_rep"], world["hcps"]["H1"]
    observe("frm", hcp="H9", barriers=["ACC-APL-001"])
    app.config["INSIGHT_CACHE_SECONDS"] = 60
    app.extensions["clearpath_cache"] = TTLCache(60)
    assert [b.code for b in likely_barriers(rep, h1)] == ["ACC-APL-001"]
    for _ in range(3):
        observe("frm", hcp="H9", barriers=["CLN-BIO-001"])
    assert [b.code for b in likely_barriers(rep, h1)] == ["ACC-APL-001"]  # the kept counts
    observe("frm", hcp="H1", barriers=["ACC-PA-002"])
    assert [b.code for b in likely_barriers(rep, h1)] == ["ACC-PA-002", "ACC-APL-001"]
    app.extensions["clearpath_cache"] = TTLCache(60)  # counted again: a new worker, no snapshot
    db.session.execute(db.text("DELETE FROM insight_snapshot"))
    db.session.commit()
    # H1's own call 4 + 1 (its segment) + 0.5; H9's three calls 3 × 0.5; its one 0.5.
    assert [b.code for b in likely_barriers(rep, h1)] == ["ACC-PA-002", "CLN-BIO-001", "ACC-APL-001"]


def test_search_wildcards_are_taken_literally(client, as_role):
    as_role("sales_rep")
    assert "Ada Patel" not in client.get("/capture/hcps?hcp_q=%25", headers=HTMX).text
    assert "Ada Patel" not in client.get("/capture/hcps?hcp_q=_", headers=HTMX).text


def test_a_capture_reads_everything_before_its_first_write(client, as_role, world):
    """On SQLite the first write takes the database's only write lock until the commit: the
    play each barrier is given and the hand-off of a medical one are worked out before it."""

    from webapp.models import Barrier, Handoff

    from .test_next_best_play import _alternative, _barrier

    medical = next(b.code for b in db.session.scalars(db.select(Barrier))
                   if not b.may_be_run_by("sales_rep") and "msl" in b.compliant_for)
    _alternative(_barrier())  # two plays to rank: the evidence is read on the write path
    as_role("sales_rep")
    response, ran = with_statements(
        lambda: client.post("/capture", data=_form(barrier=[medical, "ACC-PA-002"])))
    statements = verbs(ran)
    assert response.status_code == 303
    first_write = statements.index("INSERT")
    assert set(statements[first_write:]) == {"INSERT"}, statements
    assert [h.to_role for h in db.session.scalars(db.select(Handoff))] == ["msl"]
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
        AuditEvent.action == "handoff_created")) == 1


def _fragment(client, path):
    """An htmx request's response and the SQL it ran, as one lower-case text."""
    response, statements = with_statements(lambda: client.get(path, headers=HTMX))
    assert response.status_code == 200, path
    return response, statements, " ".join(statements).lower()


def test_a_search_keystroke_reads_only_what_its_list_shows(client, as_role, observe):
    observe("sales_rep", hcp="H1", minutes_ago=10)
    as_role("sales_rep")
    response, _, read = _fragment(client, "/capture/hcps?hcp_q=ada")
    assert "Ada Patel" in response.text
    # Not the page's calls, brands, categories or stages: only the user and the HCPs.
    assert "from observation" not in read and "from brand" not in read
    assert "from category" not in read and "from journey_stage" not in read
    assert "from hcp" in read
    # The empty search lists the recent HCPs, still without the rest of the page.
    recent, _, read = _fragment(client, "/capture/hcps")
    assert "<h3>Recent</h3>" in recent.text and 'href="/capture?hcp=H1"' in recent.text
    assert "from brand" not in read


def test_a_barrier_filter_reads_only_the_barrier_list(client, as_role):
    as_role("sales_rep")
    response, _, read = _fragment(client, "/capture/barriers?hcp=H1&q=order+set")
    assert 'id="barrier-list"' in response.text
    assert "from brand" not in read and "from adoption_stage" not in read
    # Every option shows its category and journey stage: both tables are read whole first,
    # not one statement per option (the whole list below spans several of both).
    listed, statements, _ = _fragment(client, "/capture/barriers?hcp=H1")
    assert listed.text.count('name="barrier"') > 10
    one_each = [s for s in statements if re.search(
        r"from (category|journey_stage)\s+where", s, re.IGNORECASE)]
    assert one_each == [] and len(statements) <= 8


def test_the_likely_barriers_are_the_leaders_among_active_ones_whatever_the_ties(world):
    """Only the leading barriers are loaded, in rounds until enough are active: the result is
    the same as ranking every scored active barrier."""
    import random

    from webapp.capture.services import _top_active
    from webapp.models import Barrier, utcnow

    barriers = db.session.scalars(db.select(Barrier)).all()
    rng = random.Random(11)
    for trial in range(25):
        for barrier in barriers:
            barrier.retired_at = utcnow() if rng.random() < 0.3 else None
        db.session.flush()
        scored = rng.sample(barriers, rng.randint(1, len(barriers)))
        scores = {b.id: float(rng.choice([0.5, 1, 1.5, 2, 4, 4.5]) * rng.randint(1, 4))
                  for b in scored}
        limit = rng.randint(1, 10)
        expected = sorted((b for b in scored if b.retired_at is None),
                          key=lambda b: (-scores[b.id], b.code))[:limit]
        assert [b.code for b in _top_active(scores, limit)] == [b.code for b in expected], trial
    db.session.rollback()
    # With nothing retired, one statement reads the leaders and their ties, not every one.
    scores = {b.id: float(n % 7) for n, b in enumerate(barriers)}
    found, statements = with_statements(lambda: _top_active(scores, 8))
    assert len(found) == 8 and len(statements) == 1


def test_a_calls_page_reads_the_same_statements_for_one_barrier_as_for_three(app, client, as_role,
                                                                               observe):
    from webapp.cache import TTLCache
    from webapp.models import Barrier

    with_plays = [b for b in db.session.scalars(
        db.select(Barrier).where(Barrier.retired_at.is_(None)).order_by(Barrier.code))
        if b.play is not None and b.play.leave_behind is not None]
    codes = [with_plays[0].code, with_plays[20].code, with_plays[40].code]
    calls = {1: observe(barriers=codes[:1]).id, 3: observe(barriers=codes).id}
    # As in production, each play's evidence and the role names are counted once a minute.
    app.extensions["clearpath_cache"] = TTLCache(60)
    as_role("sales_rep")
    counted = {}
    for barriers, call_id in calls.items():
        client.get(f"/observations/{call_id}")  # its plays' evidence is counted, and kept
        db.session.remove()  # nothing of the call in memory: the page loads what it shows
        response, ran = with_statements(lambda call_id=call_id: client.get(f"/observations/{call_id}"))
        assert response.status_code == 200
        counted[barriers] = len(ran)
    for code in codes:
        assert f'id="play-{code}"' in response.text
    # The user, the call, its barriers (with categories), their plays (with channels), the
    # plays' leave-behinds, the plays given, the runs, the hand-offs: 21 for three barriers
    # and 12 for one when each was loaded as the page read it.
    assert counted[1] == counted[3] == 8, counted
