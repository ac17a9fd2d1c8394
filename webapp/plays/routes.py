from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from ..auth.access import roles_required
from ..capture.services import visible_observation
from ..extensions import db
from ..htmx import render
from ..models import FIELD_ROLES, USER_ROLES, Channel, PlayRun, utcnow
from ..urls import local_path
from . import bp
from .schemas import OutcomeSchema, PlayRunSchema, ReturnSchema
from .services import (
    PlayError,
    accept_handoff,
    barrier_with_play,
    hand_off,
    outcomes_due,
    play_cards,
    play_for,
    queue_for,
    record_outcome,
    return_handoff,
    run_play,
    visible_handoff,
)


@bp.get("/plays/<code>")
@roles_required(*USER_ROLES)
def show(code: str):
    barrier = barrier_with_play(code)
    if barrier is None:
        abort(404, "No barrier with this code.")
    (card,) = play_cards([barrier], current_user.role)
    return render("plays/show.html", card=card)


def _observation_or_404(observation_id: str):
    observation = visible_observation(current_user, observation_id)
    if observation is None:
        abort(404, "No such observation in your territory.")
    return observation


def _back_to(observation_id: str, code: str):
    return redirect(url_for("capture.observation", observation_id=observation_id) + f"#play-{code}",
                    code=303)


def _run(observation, code: str):
    """Parse the run form and record the run; PlayError or ValidationError on bad input."""
    data = PlayRunSchema().load(request.form.to_dict())
    barrier = next((b for b in observation.barriers if b.code == code), None)
    if barrier is None:
        raise PlayError("This barrier was not logged in this observation.")
    play = play_for(observation, barrier)
    if play is None:
        raise PlayError("This barrier has no approved play to run.")
    channel = data["channel"] or play.channel_code
    if channel is None or db.session.get(Channel, channel) is None:
        raise PlayError("Choose the channel you used.")
    return run_play(current_user, observation, code, data["ran_at"] or utcnow(), channel,
                    data["leave_behind"])


@bp.post("/observations/<observation_id>/plays/<code>/runs")
@roles_required(*USER_ROLES)
def record_run(observation_id: str, code: str):
    observation = _observation_or_404(observation_id)
    try:
        _run(observation, code)
    except (PlayError, ValidationError) as error:
        db.session.rollback()
        flash(_message(error), "error")
    return _back_to(observation_id, code)


@bp.post("/observations/<observation_id>/plays/<code>/handoff")
@roles_required(*USER_ROLES)
def handoff(observation_id: str, code: str):
    observation = _observation_or_404(observation_id)
    try:
        hand_off(current_user, observation, code)
    except PlayError as error:
        flash(str(error), "error")
    return _back_to(observation_id, code)


@bp.get("/queue")
@roles_required(*FIELD_ROLES)
def queue():
    return render("plays/queue.html", handoffs=queue_for(current_user),
                  due=outcomes_due(current_user), now=utcnow())


def _handoff_or_404(handoff_id: int):
    found = visible_handoff(current_user, handoff_id)
    if found is None:
        abort(404, "No such hand-off for your role and territory.")
    return found


@bp.post("/handoffs/<int:handoff_id>/accept")
@roles_required(*FIELD_ROLES)
def accept(handoff_id: int):
    try:
        accept_handoff(current_user, _handoff_or_404(handoff_id))
    except PlayError as error:
        flash(str(error), "error")
    return redirect(url_for("plays.queue"), code=303)


@bp.post("/handoffs/<int:handoff_id>/return")
@roles_required(*FIELD_ROLES)
def send_back(handoff_id: int):
    found = _handoff_or_404(handoff_id)
    try:
        data = ReturnSchema().load(request.form.to_dict())
        return_handoff(current_user, found, data["reason"])
    except (PlayError, ValidationError) as error:
        flash(_message(error), "error")
    return redirect(url_for("plays.queue"), code=303)


@bp.post("/handoffs/<int:handoff_id>/run")
@roles_required(*FIELD_ROLES)
def run_handoff(handoff_id: int):
    found = _handoff_or_404(handoff_id)
    try:
        _run(found.observation, found.barrier.code)
    except (PlayError, ValidationError) as error:
        db.session.rollback()
        flash(_message(error), "error")
    return redirect(url_for("plays.queue"), code=303)


@bp.post("/runs/<int:run_id>/outcome")
@roles_required(*USER_ROLES)
def outcome(run_id: int):
    run = db.session.get(PlayRun, run_id)
    if run is None or run.runner_id != current_user.id:
        abort(404, "No such play run of yours.")
    try:
        record_outcome(current_user, run, OutcomeSchema().load(request.form.to_dict())["outcome"])
    except (PlayError, ValidationError) as error:
        flash(_message(error), "error")
    return redirect(local_path(request.form.get("next"), url_for("plays.queue")), code=303)


def _message(error) -> str:
    if isinstance(error, ValidationError):
        messages = error.messages
        return " ".join(" ".join(m) if isinstance(m, list) else str(m) for m in messages.values())
    return str(error)
