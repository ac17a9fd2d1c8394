"""The demo data: a living app from one command, safe to run again."""

from webapp.extensions import db
from webapp.models import HCP, USER_ROLES, Brand, Observation, Territory, User


def _count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_demo_load_builds_a_believable_world_and_can_run_again(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert _count(HCP) == 200 and _count(Territory) >= 3 and 2 <= _count(Brand) <= 3
    assert {u.role for u in db.session.scalars(db.select(User))} == set(USER_ROLES)
    observations = _count(Observation)
    assert observations >= 200
    # Each sign-in line carries a password that works, once.
    line = next(line for line in first.output.splitlines() if "(sales_rep)" in line)
    email, password = line.split()[:2]
    rep = db.session.scalar(db.select(User).where(User.email == email))
    assert rep.check_password(password)

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert _count(HCP) == 200 and _count(Observation) == observations
    db.session.refresh(rep)
    assert not rep.check_password(password)  # every run issues fresh passwords


def test_demo_history_spans_weeks_and_every_observation_is_in_scope(app, runner):
    runner.invoke(args=["demo", "load"])
    rows = db.session.execute(
        db.select(Observation.observed_at, Observation.territory_id, HCP.territory_id).join(HCP)
    ).all()
    span = max(r[0] for r in rows) - min(r[0] for r in rows)
    assert span.days >= 14
    assert all(obs_territory == hcp_territory for _, obs_territory, hcp_territory in rows)
