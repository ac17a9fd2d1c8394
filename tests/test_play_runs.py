"""Plays in motion: running a play, handing it to the role that leads it, and its outcome."""

from datetime import UTC, datetime, timedelta

from webapp.extensions import db
from webapp.models import AuditEvent, Handoff, PlayRun, User


def _runs():
    return db.session.scalars(db.select(PlayRun)).all()


def test_rep_records_running_a_play_they_may_run(client, as_role, observe):
    observation = observe("sales_rep", barriers=["ACC-PA-002"])
    as_role("sales_rep")
    response = client.post(f"/observations/{observation.id}/plays/ACC-PA-002/runs",
                           data={"leave_behind": "given"}, follow_redirects=True)
    assert response.status_code == 200 and "Ran by Sales_Rep" in response.text
    (run,) = _runs()
    assert run.leave_behind == "given" and run.channel_code == "leave_behind"
    assert run.outcome_due_at - run.ran_at == timedelta(days=14)
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "play_run"))


def test_a_role_outside_compliant_for_cannot_run_the_play(client, as_role, observe):
    observation = observe("sales_rep", barriers=["ACC-APL-001"])
    as_role("sales_rep")
    response = client.post(f"/observations/{observation.id}/plays/ACC-APL-001/runs",
                           follow_redirects=True)
    assert "Your role may not run this play; hand it on instead." in response.text
    assert _runs() == []


def test_bad_run_input_is_a_message_not_a_500(client, as_role, observe):
    observation = observe("sales_rep", barriers=["ACC-PA-002"])
    as_role("sales_rep")
    response = client.post(f"/observations/{observation.id}/plays/ACC-PA-002/runs",
                           data={"leave_behind": "thrown", "ran_at": "soon"}, follow_redirects=True)
    assert response.status_code == 200 and "Must be one of" in response.text
    response = client.post(f"/observations/{observation.id}/plays/CLN-BIO-001/runs",
                           follow_redirects=True)
    assert "This barrier was not logged in this observation." in response.text
    assert _runs() == []


def test_hand_off_reaches_the_frm_queue_who_runs_it_and_the_author_sees_it(
        client, as_role, observe, login, world):
    observation = observe("sales_rep", barriers=["ACC-APL-001"])
    as_role("sales_rep")
    page = client.post(f"/observations/{observation.id}/plays/ACC-APL-001/handoff",
                       follow_redirects=True).text
    assert "Handed to Field reimbursement manager" in page and ": open" in page
    client.post("/logout")
    login(world["users"]["frm"].email)
    queue = client.get("/queue").text
    (handoff,) = db.session.scalars(db.select(Handoff)).all()
    assert f'id="handoff-{handoff.id}"' in queue and "Dr Ada Patel" in queue
    client.post(f"/handoffs/{handoff.id}/accept")
    client.post(f"/handoffs/{handoff.id}/run")
    db.session.refresh(handoff)
    assert handoff.status == "run" and handoff.play_run.runner_role == "frm"
    assert f'id="handoff-{handoff.id}"' not in client.get("/queue").text
    client.post("/logout")
    as_role("sales_rep")
    page = client.get(f"/observations/{observation.id}").text
    assert "Ran by Frm (Field reimbursement manager)" in page


def test_hand_offs_stay_in_their_territory(client, observe, login, world):
    observation = observe("sales_rep", barriers=["ACC-APL-001"])
    far = User(email="frm3@example.test", name="Far FRM", role="frm",
               territory=world["territories"][2], password_hash=world["users"]["frm"].password_hash)
    db.session.add(far)
    db.session.commit()
    login(world["users"]["sales_rep"].email)
    client.post(f"/observations/{observation.id}/plays/ACC-APL-001/handoff")
    handoff = db.session.scalar(db.select(Handoff))
    client.post("/logout")
    login("frm3@example.test")
    assert f'id="handoff-{handoff.id}"' not in client.get("/queue").text
    assert client.post(f"/handoffs/{handoff.id}/accept").status_code == 404


def test_sending_back_needs_a_reason_and_the_author_sees_it(client, observe, login, world):
    observation = observe("sales_rep", barriers=["ACC-APL-001"])
    login(world["users"]["sales_rep"].email)
    client.post(f"/observations/{observation.id}/plays/ACC-APL-001/handoff")
    handoff = db.session.scalar(db.select(Handoff))
    client.post("/logout")
    login(world["users"]["frm"].email)
    empty = client.post(f"/handoffs/{handoff.id}/return", data={"reason": ""}, follow_redirects=True)
    assert "Say why you are sending it back" in empty.text
    client.post(f"/handoffs/{handoff.id}/return", data={"reason": "PA was already approved"})
    client.post("/logout")
    login(world["users"]["sales_rep"].email)
    page = client.get(f"/observations/{observation.id}").text
    assert "returned by Frm" in page and "PA was already approved" in page


def test_outcome_is_asked_after_14_days_of_the_runner_only(client, observe, login, world):
    observation = observe("sales_rep", barriers=["ACC-PA-002"], minutes_ago=60 * 24 * 20)
    login(world["users"]["sales_rep"].email)
    fifteen_days_ago = (datetime.now(UTC) - timedelta(days=15)).isoformat()
    client.post(f"/observations/{observation.id}/plays/ACC-PA-002/runs",
                data={"ran_at": fifteen_days_ago})
    (run,) = _runs()
    queue = client.get("/queue").text
    assert "Did the play work?" in queue and f'id="run-{run.id}"' in queue
    client.post(f"/runs/{run.id}/outcome", data={"outcome": "resolved"})
    db.session.refresh(run)
    assert run.outcome == "resolved" and run.outcome_at is not None
    assert "Did the play work?" not in client.get("/queue").text
    client.post("/logout")
    login(world["users"]["frm"].email)
    assert client.post(f"/runs/{run.id}/outcome", data={"outcome": "partly"}).status_code == 404


def test_a_scientific_question_heard_by_a_rep_goes_to_the_msl(client, observe, login, world):
    observation = observe("sales_rep", barriers=["CLN-BIO-001", "ACC-PA-002"])
    (handoff,) = db.session.scalars(db.select(Handoff)).all()
    assert handoff.to_role == "msl" and handoff.barrier.code == "CLN-BIO-001"
    assert handoff.observation_id == observation.id
    login(world["users"]["msl"].email)
    assert f'id="handoff-{handoff.id}"' in client.get("/queue").text


def test_an_msl_logging_a_medical_barrier_keeps_it(observe):
    observe("msl", barriers=["CLN-BIO-001"])
    assert db.session.scalars(db.select(Handoff)).all() == []


def test_when_the_outcome_is_asked_is_configurable(app, client, as_role, observe):
    app.config["OUTCOME_AFTER_DAYS"] = 30
    observation = observe("sales_rep", barriers=["ACC-PA-002"])
    as_role("sales_rep")
    client.post(f"/observations/{observation.id}/plays/ACC-PA-002/runs", data={"leave_behind": "given"})
    (run,) = _runs()
    assert run.outcome_due_at - run.ran_at == timedelta(days=30)
