"""HQ authors the library: barriers in place, plays as MLR-approved versions; only approved,
unexpired content is ever offered, printed or cached."""

from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, Barrier, Play, utcnow

NEW_PLAY = {
    "title": "Payer policy walk-through",
    "goal": "The office submits PAs that match the payer's policy.",
    "channel_code": "face_to_face",
    "know": "The payer's medical policy and its documentation list.",
    "use": "Approved payer policy summary.",
    "tell": ["hub"],
    "approval_code": "MLR-2026-0412",
    "expires_on": "2027-12-31",
    "lb_title": "What this payer asks for",
    "lb_steps": "Check the policy.\nAttach chart notes.",
}


def _plays(code="ACC-PA-002"):
    barrier = db.session.scalar(db.select(Barrier).where(Barrier.code == code))
    db.session.refresh(barrier)
    return barrier, sorted(barrier.plays, key=lambda p: (p.lineage, p.version))


def _actions():
    return [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def _draft(client, as_role, code="ACC-PA-002", **changes):
    as_role("hq_brand")
    response = client.post(f"/library/barriers/{code}/plays/new", data={**NEW_PLAY, **changes})
    assert response.status_code == 303, response.text
    return _plays(code)[1][-1]


def _approve(client, as_role, play):
    as_role("hq_market_access")
    return client.post(f"/library/plays/{play.id}/approve", follow_redirects=True)


def test_a_new_play_is_a_draft_until_someone_else_approves_it(client, as_role):
    draft = _draft(client, as_role)
    assert (draft.lineage, draft.version, draft.status) == ("ACC-PA-002-P2", 1, "draft")
    barrier, _ = _plays()
    assert draft not in barrier.offered_plays()

    response = client.post(f"/library/plays/{draft.id}/approve", follow_redirects=True)
    assert "Someone other than its author must approve a play." in response.text
    assert db.session.get(Play, draft.id).status == "draft"

    response = _approve(client, as_role, draft)
    assert "Approved" in response.text
    db.session.refresh(draft)
    assert draft.status == "approved" and draft in barrier.offered_plays()
    assert draft.leave_behind is not None and draft.leave_behind.steps == ["Check the policy.",
                                                                          "Attach chart notes."]
    assert {"play_created", "play_approved"} <= set(_actions())


def test_approval_needs_an_mlr_code_and_a_future_expiry(client, as_role):
    draft = _draft(client, as_role, approval_code="", expires_on="")
    response = _approve(client, as_role, draft)
    assert "Enter the MLR approval code before approving." in response.text
    assert db.session.get(Play, draft.id).status == "draft"


def test_bad_play_form_is_re_rendered_with_each_error_and_stores_nothing(client, as_role):
    as_role("hq_brand")
    before = len(_plays()[1])
    response = client.post("/library/barriers/ACC-PA-002/plays/new", data={
        **NEW_PLAY, "title": "", "channel_code": "carrier_pigeon", "expires_on": "someday",
        "lb_steps": "",
    })
    assert response.status_code == 422
    page = response.text
    assert 'id="title-error"' in page and "Give the play a title" in page
    assert "Unknown: carrier_pigeon." in page
    assert "Give a date like 2027-06-30." in page
    assert "A leave-behind needs at least one step." in page
    assert "The office submits PAs that match the payer" in page
    assert len(_plays()[1]) == before


def test_editing_approved_content_makes_a_new_version_and_calls_keep_theirs(
        client, as_role, observe):
    observation = observe("sales_rep", barriers=["ACC-PA-002"])
    barrier, (v1,) = _plays()
    given = db.session.execute(db.text(
        "SELECT play_id FROM observation_barrier WHERE observation_id = :id"),
        {"id": observation.id}).scalar()
    assert given == v1.id

    as_role("hq_brand")
    response = client.post(f"/library/plays/{v1.id}/edit",
                           data={**NEW_PLAY, "title": "Simpler PA process, v2"})
    assert response.status_code == 303
    _, versions = _plays()
    v2 = versions[-1]
    assert (v2.lineage, v2.version, v2.status) == ("ACC-PA-002", 2, "draft")
    # A second edit while a draft waits is refused: edit the draft instead.
    response = client.post(f"/library/plays/{v1.id}/edit", data=NEW_PLAY)
    assert response.status_code == 422 and "already has a draft" in response.text

    _approve(client, as_role, v2)
    db.session.refresh(v1)
    assert v1.status == "superseded" and db.session.get(Play, v2.id).status == "approved"
    as_role("sales_rep")
    page = client.get(f"/observations/{observation.id}").text
    assert "Simpler PA process, v2" in page
    assert "superseded by a newer approved version" in page
    # The call still points at the version it was given.
    assert db.session.execute(db.text(
        "SELECT play_id FROM observation_barrier WHERE observation_id = :id"),
        {"id": observation.id}).scalar() == v1.id


@pytest.mark.parametrize("lifecycle", ["withdrawn", "expired"])
def test_withdrawn_or_expired_content_is_never_offered(client, as_role, observe, lifecycle):
    barrier, (play,) = _plays()
    if lifecycle == "withdrawn":
        as_role("hq_brand")
        client.post(f"/library/plays/{play.id}/withdraw")
    else:
        play.expires_on = utcnow().date() - timedelta(days=1)
        db.session.commit()
    observation = observe("sales_rep", barriers=["ACC-PA-002"])
    as_role("sales_rep")
    # HTML: the play page and the call page.
    assert "No approved play yet" in client.get("/plays/ACC-PA-002").text
    page = client.get(f"/observations/{observation.id}").text
    assert play.title not in page and "No approved play yet" in page
    # PDF.
    pdf = client.get("/plays/ACC-PA-002/leave-behind.pdf?hcp=H1")
    assert pdf.status_code == 404
    # API, which is also what devices cache for offline use.
    items = client.get("/api/v1/barriers?q=overwhelmed&limit=50").json["items"]
    (item,) = [i for i in items if i["code"] == "ACC-PA-002"]
    assert item["play"] is None


def test_an_expired_leave_behind_disappears_while_its_play_stays(client, as_role):
    barrier, (play,) = _plays()
    play.leave_behind_version.expires_on = utcnow().date() - timedelta(days=1)
    db.session.commit()
    as_role("sales_rep")
    assert client.get("/plays/ACC-PA-002/leave-behind.pdf?hcp=H1").status_code == 404
    items = client.get("/api/v1/barriers?q=overwhelmed&limit=50").json["items"]
    (item,) = [i for i in items if i["code"] == "ACC-PA-002"]
    assert item["play"]["title"] == play.title and item["play"]["leave_behind"] is None


def test_withdrawing_a_leave_behind_keeps_the_play(client, as_role):
    barrier, (play,) = _plays()
    as_role("hq_brand")
    client.post(f"/library/plays/{play.id}/withdraw-leave-behind")
    assert db.session.get(Play, play.id).status == "approved"
    as_role("sales_rep")
    assert client.get("/plays/ACC-PA-002/leave-behind.pdf?hcp=H1").status_code == 404


def test_hq_creates_and_edits_a_barrier_with_inline_errors(client, as_role):
    as_role("hq_brand")
    bad = client.post("/library/barriers/new", data={
        "code": "acc pa", "name": "Payer wants a peer-to-peer call", "category_code": "access",
        "journey_stage_code": "prior_authorization", "primary_role_code": "frm",
        "compliant_for": ["sales_rep"]})
    assert bad.status_code == 422
    assert "Use capitals, digits and dashes" in bad.text
    assert "The lead role must be one of the roles that may run it." in bad.text
    good = client.post("/library/barriers/new", data={
        "code": "ACC-P2P-001", "name": "Payer wants a peer-to-peer call",
        "category_code": "access", "journey_stage_code": "prior_authorization",
        "primary_role_code": "frm", "compliant_for": ["frm", "pal"],
        "signals": "they want a peer to peer\nP2P scheduled"})
    assert good.status_code == 303
    barrier = db.session.scalar(db.select(Barrier).where(Barrier.code == "ACC-P2P-001"))
    assert barrier.signals == ["they want a peer to peer", "P2P scheduled"]
    duplicate = client.post("/library/barriers/new", data={
        "code": "ACC-P2P-001", "name": "Again", "category_code": "access",
        "journey_stage_code": "prior_authorization", "primary_role_code": "frm",
        "compliant_for": ["frm"]})
    assert duplicate.status_code == 422 and "already exists" in duplicate.text

    client.post("/library/barriers/ACC-P2P-001/edit", data={
        "name": "Payer insists on a peer-to-peer call", "category_code": "access",
        "journey_stage_code": "prior_authorization", "primary_role_code": "frm",
        "compliant_for": ["frm"], "signals": "P2P"})
    db.session.refresh(barrier)
    assert barrier.name == "Payer insists on a peer-to-peer call"
    update = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "barrier_updated"))
    assert update.detail["changes"]["name"] == ["Payer wants a peer-to-peer call",
                                                "Payer insists on a peer-to-peer call"]


def test_library_forms_need_csrf(app, client, as_role):
    as_role("hq_brand")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/library/barriers/ACC-PA-002/plays/new", data=NEW_PLAY)
    assert response.status_code == 400
