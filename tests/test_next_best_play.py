"""The next best play for a barrier in a context, and the HCP's adoption ladder."""

from datetime import date, timedelta

import pytest

from webapp.extensions import db
from webapp.metrics.services import success_rates
from webapp.models import AdoptionStep, Barrier, LeaveBehind, Play, PlayRun
from webapp.plays.services import PlayContext, rank_plays

from .conftest import iso

CODE = "ACC-PA-002"  # sales_rep may run it; the library's play has a leave-behind


def _barrier() -> Barrier:
    return db.session.scalar(db.select(Barrier).where(Barrier.code == CODE))


def _alternative(barrier: Barrier, lineage=f"{CODE}-P2", title="Office PA workshop") -> Play:
    play = Play(barrier=barrier, lineage=lineage, version=1, status="approved",
                approval_code="MLR-9", title=title, goal="Fewer denials.",
                channel_code="face_to_face", know="Payer rules.", use="Workshop deck.",
                tell=["hub"], expires_on=date(2099, 1, 1))
    db.session.add(play)
    db.session.add(LeaveBehind(play=play, title="Workshop", steps=["Bring the PA log."],
                               approval_code="MLR-9"))
    db.session.commit()
    return play


def _runs(world, observe, play: Play, outcomes: list[str], hcp="H1", role="sales_rep"):
    """Observed and run `play` once per outcome, for the HCP, as `role`."""
    for outcome in outcomes:
        observation = observe(role, hcp=hcp, barriers=[CODE], minutes_ago=60 * 24 * 20)
        ran_at = observation.observed_at + timedelta(hours=2)
        db.session.add(PlayRun(observation=observation, barrier=_barrier(), play=play,
                               runner=world["users"][role], runner_role=role, ran_at=ran_at,
                               channel_code="face_to_face", outcome=outcome,
                               outcome_due_at=ran_at + timedelta(days=14)))
    db.session.commit()


def test_plays_rank_by_success_in_the_same_segment_with_shrinkage(world, observe):
    barrier = _barrier()
    library = barrier.play
    workshop = _alternative(barrier)
    _runs(world, observe, library, ["resolved", "not_resolved", "not_resolved", "partly"])
    _runs(world, observe, workshop, ["resolved", "resolved", "resolved", "not_resolved"])

    ranked = rank_plays(barrier, PlayContext(segment="evidence seeker"))
    assert [r.play for r in ranked] == [workshop, library]
    # Hand-computed: overall (3 + 2·0.5) / (4 + 2) = 2/3; in context (3 + 5·2/3) / (4 + 5).
    assert ranked[0].score == pytest.approx((3 + 5 * (4 / 6)) / 9)
    assert ranked[1].score == pytest.approx((1 + 5 * (2 / 6)) / 9)
    assert ranked[0].evidence == "worked 3 of 4 times with evidence seeker HCPs"


def test_a_new_play_is_tried_before_one_that_measured_poorly(world, observe):
    barrier = _barrier()
    library = barrier.play
    _runs(world, observe, library, ["not_resolved", "not_resolved", "resolved"])
    fresh = _alternative(barrier, title="Brand-new approach")
    ranked = rank_plays(barrier, PlayContext(segment="evidence seeker"))
    assert ranked[0].play == fresh and ranked[0].score == pytest.approx(0.5)
    assert ranked[0].evidence == "new play: no outcome recorded yet"


def test_evidence_from_another_segment_counts_overall_not_in_context(world, observe):
    barrier = _barrier()
    _runs(world, observe, barrier.play, ["resolved", "resolved"])  # H1: evidence seeker
    (ranked,) = rank_plays(barrier, PlayContext(segment="early adopter"))
    assert (ranked.judged, ranked.all_judged, ranked.all_resolved) == (0, 2, 2)
    assert ranked.evidence == ("worked 2 of 2 times overall; not yet judged with "
                               "early adopter HCPs")


def test_a_barrier_seen_again_counts_against_the_play(world, observe):
    barrier = _barrier()
    _runs(world, observe, barrier.play, [None])
    observe("sales_rep", barriers=[CODE], minutes_ago=60)  # the barrier came back
    (ranked,) = rank_plays(barrier, PlayContext(segment="evidence seeker"))
    assert (ranked.resolved, ranked.judged) == (0, 1)


def test_capture_gives_the_next_best_play_and_the_call_shows_its_evidence(
        client, as_role, world, observe):
    barrier = _barrier()
    workshop = _alternative(barrier)
    _runs(world, observe, workshop, ["resolved", "resolved"])
    _runs(world, observe, barrier.play, ["not_resolved", "not_resolved"])
    observation = observe("sales_rep", barriers=[CODE])
    given = db.session.execute(db.text(
        "SELECT play_id FROM observation_barrier WHERE observation_id = :id"),
        {"id": observation.id}).scalar()
    assert given == workshop.id
    as_role("sales_rep")
    page = client.get(f"/observations/{observation.id}").text
    assert "Play: Office PA workshop" in page
    assert "worked 2 of 2 times with evidence seeker HCPs" in page
    assert "1 other approved play for this barrier" in page
    assert f"play={workshop.id}" in page  # the leave-behind link prints the play given
    pdf = client.get(f"/plays/{CODE}/leave-behind.pdf?hcp=H1&play={workshop.id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_running_a_play_records_the_version_run(client, as_role, observe):
    observation = observe("sales_rep", barriers=[CODE])
    as_role("sales_rep")
    client.post(f"/observations/{observation.id}/plays/{CODE}/runs", data={"leave_behind": "given"})
    (run,) = db.session.scalars(db.select(PlayRun)).all()
    assert run.play == _barrier().play and run.play.lineage == CODE


# The adoption ladder ------------------------------------------------------------------------
def test_capture_records_the_hcps_stage_in_one_tap(client, as_role, world):
    as_role("sales_rep")
    response = client.post("/capture", data={
        "id": "0b8e3c1a-5d7f-4e21-9a3b-6c5d4e3f2a10", "hcp": "H1", "barrier": CODE,
        "observed_at": iso(), "brand": "ONC", "adoption_stage": "trialing"})
    assert response.status_code == 303
    (step,) = db.session.scalars(db.select(AdoptionStep)).all()
    assert (step.hcp.external_id, step.brand.code, step.stage_code) == ("H1", "ONC", "trialing")
    page = client.get("/capture?hcp=H1").text
    assert "Last said: Oncora trialing." in page


def test_a_stage_without_a_brand_or_unknown_is_refused_and_nothing_stored(client, as_role):
    as_role("sales_rep")
    response = client.post("/capture", data={
        "id": "1b8e3c1a-5d7f-4e21-9a3b-6c5d4e3f2a10", "hcp": "H1", "barrier": CODE,
        "observed_at": iso(), "adoption_stage": "trialing"})
    assert response.status_code == 422
    assert "Choose the brand whose adoption stage this is." in response.text
    result = client.post("/api/v1/observations", json={"observations": [{
        "id": "2b8e3c1a-5d7f-4e21-9a3b-6c5d4e3f2a10", "hcp": "H1", "barriers": [CODE],
        "observed_at": iso(), "brand": "ONC", "adoption_stage": "smitten"}]}).json
    assert result["results"][0]["status"] == "rejected"
    assert result["results"][0]["errors"]["adoption_stage"] == ["Unknown adoption stage smitten."]
    assert db.session.scalars(db.select(AdoptionStep)).all() == []


def test_success_shows_how_many_hcps_moved_up_the_ladder_after_the_play(world, observe):
    barrier = _barrier()
    rep = world["users"]["sales_rep"]
    hcp, brand = world["hcps"]["H1"], world["brand"]
    observation = observe("sales_rep", barriers=[CODE], minutes_ago=60 * 24 * 60, brand="ONC")
    ran_at = observation.observed_at + timedelta(hours=1)
    db.session.add(PlayRun(observation=observation, barrier=barrier, play=barrier.play,
                           runner=rep, runner_role="sales_rep", ran_at=ran_at,
                           channel_code="face_to_face", outcome="resolved",
                           outcome_due_at=ran_at + timedelta(days=14)))
    for stage, at in (("considering", observation.observed_at),
                      ("trialing", ran_at + timedelta(days=30))):
        db.session.add(AdoptionStep(hcp=hcp, brand=brand, stage_code=stage, at=at, user=rep))
    db.session.commit()
    (group,) = success_rates(world["users"]["hq_brand"], "play")
    assert (group.label, group.resolved, group.ladder_known, group.ladder_up) == (CODE, 1, 1, 1)


def test_a_move_after_the_window_does_not_count(world, observe):
    barrier = _barrier()
    rep = world["users"]["sales_rep"]
    observation = observe("sales_rep", barriers=[CODE], minutes_ago=60 * 24 * 200, brand="ONC")
    ran_at = observation.observed_at
    db.session.add(PlayRun(observation=observation, barrier=barrier, play=barrier.play,
                           runner=rep, runner_role="sales_rep", ran_at=ran_at,
                           channel_code="face_to_face", outcome_due_at=ran_at))
    for stage, at in (("aware", ran_at - timedelta(days=1)),
                      ("adopting", ran_at + timedelta(days=91))):
        db.session.add(AdoptionStep(hcp=world["hcps"]["H1"], brand=world["brand"],
                                    stage_code=stage, at=at, user=rep))
    db.session.commit()
    (group,) = success_rates(world["users"]["hq_brand"], "play")
    assert (group.ladder_known, group.ladder_up) == (1, 0)


def test_metrics_page_shows_success_by_play_with_the_ladder(client, as_role, world):
    as_role("hq_brand")
    page = client.get("/metrics?by=play").text
    assert 'id="success"' in page and "Moved up the ladder" in page
