from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from ..auth.access import roles_required
from ..extensions import db
from ..htmx import render
from ..models import LIBRARY_ROLES, AdoptionStage, Channel, JourneyStage, Play, Role
from . import bp
from .authoring import (
    AuthoringError,
    approve_play,
    categories,
    create_barrier,
    create_play,
    edit_play,
    find_barrier,
    library_barriers,
    lineages,
    set_retired,
    update_barrier,
    withdraw_leave_behind,
    withdraw_play,
)
from .schemas import BarrierFormSchema, NewBarrierFormSchema, PlayFormSchema, form_data

BARRIER_LISTS = ("adoption_stages", "compliant_for")
PLAY_LISTS = ("tell",)


def _choices() -> dict:
    def rows(model):
        return db.session.scalars(db.select(model).order_by(model.position)).all()

    return {"categories": categories(), "journey_stages": rows(JourneyStage),
            "adoption_stages": rows(AdoptionStage), "roles": rows(Role),
            "channels": rows(Channel)}


def _barrier_or_404(code: str):
    barrier = find_barrier(code)
    if barrier is None:
        abort(404, "No barrier with this code.")
    return barrier


def _play_or_404(play_id: int) -> Play:
    play = db.session.get(Play, play_id)
    if play is None:
        abort(404, "No such play version.")
    return play


@bp.get("/library")
@roles_required(*LIBRARY_ROLES)
def index():
    q = request.args.get("q", "").strip()[:100]
    category = request.args.get("category", "")
    return render("library/index.html", block="results", barriers=library_barriers(q, category),
                  q=q, category=category, categories=categories())


@bp.route("/library/barriers/new", methods=["GET", "POST"])
@roles_required(*LIBRARY_ROLES)
def new_barrier():
    form, errors = request.form, {}
    if request.method == "POST":
        try:
            data = NewBarrierFormSchema().load(form_data(form, BARRIER_LISTS))
            barrier = create_barrier(current_user, data)
            flash(f"Barrier {barrier.code} created. Now give it a play.", "info")
            return redirect(url_for("library.barrier", code=barrier.code), code=303)
        except (ValidationError, AuthoringError) as error:
            db.session.rollback()
            errors = error.messages if isinstance(error, ValidationError) else error.errors
    return render("library/barrier_form.html", status=422 if errors else 200, barrier=None,
                  form=form, errors=errors, **_choices())


@bp.route("/library/barriers/<code>/edit", methods=["GET", "POST"])
@roles_required(*LIBRARY_ROLES)
def edit_barrier(code: str):
    barrier = _barrier_or_404(code)
    form, errors = None, {}
    if request.method == "POST":
        form = request.form
        try:
            update_barrier(current_user, barrier,
                           BarrierFormSchema().load(form_data(form, BARRIER_LISTS)))
            flash("Barrier saved.", "info")
            return redirect(url_for("library.barrier", code=code), code=303)
        except ValidationError as error:
            db.session.rollback()
            errors = error.messages
    return render("library/barrier_form.html", status=422 if errors else 200, barrier=barrier,
                  form=form, errors=errors, **_choices())


@bp.get("/library/barriers/<code>")
@roles_required(*LIBRARY_ROLES)
def barrier(code: str):
    found = _barrier_or_404(code)
    return render("library/barrier.html", barrier=found, lineages=lineages(found))


@bp.post("/library/barriers/<code>/retire")
@roles_required(*LIBRARY_ROLES)
def retire(code: str):
    found = _barrier_or_404(code)
    set_retired(current_user, found, request.form.get("retired") == "1")
    return redirect(url_for("library.barrier", code=code), code=303)


@bp.route("/library/barriers/<code>/plays/new", methods=["GET", "POST"])
@roles_required(*LIBRARY_ROLES)
def new_play(code: str):
    found = _barrier_or_404(code)
    form, errors = request.form, {}
    if request.method == "POST":
        try:
            play = create_play(current_user, found, PlayFormSchema().load(form_data(form, PLAY_LISTS)))
            flash(f"Draft saved as {play.lineage} version 1: someone else must approve it.", "info")
            return redirect(url_for("library.barrier", code=code), code=303)
        except ValidationError as error:
            db.session.rollback()
            errors = error.messages
    return render("library/play_form.html", status=422 if errors else 200, barrier=found,
                  play=None, form=form, errors=errors, **_choices())


@bp.route("/library/plays/<int:play_id>/edit", methods=["GET", "POST"])
@roles_required(*LIBRARY_ROLES)
def edit(play_id: int):
    play = _play_or_404(play_id)
    form, errors = None, {}
    if request.method == "POST":
        form = request.form
        try:
            saved = edit_play(current_user, play, PlayFormSchema().load(form_data(form, PLAY_LISTS)))
            flash(f"Draft saved as {saved.lineage} version {saved.version}.", "info")
            return redirect(url_for("library.barrier", code=play.barrier.code), code=303)
        except (ValidationError, AuthoringError) as error:
            db.session.rollback()
            errors = error.messages if isinstance(error, ValidationError) else error.errors
    return render("library/play_form.html", status=422 if errors else 200, barrier=play.barrier,
                  play=play, form=form, errors=errors, **_choices())


def _act(play_id: int, action, done: str):
    play = _play_or_404(play_id)
    try:
        action(current_user, play)
        flash(done, "info")
    except AuthoringError as error:
        db.session.rollback()
        flash(" ".join(m for messages in error.errors.values() for m in messages), "error")
    return redirect(url_for("library.barrier", code=play.barrier.code) + f"#play-{play.id}",
                    code=303)


@bp.post("/library/plays/<int:play_id>/approve")
@roles_required(*LIBRARY_ROLES)
def approve(play_id: int):
    return _act(play_id, approve_play, "Approved: it is offered from now on.")


@bp.post("/library/plays/<int:play_id>/withdraw")
@roles_required(*LIBRARY_ROLES)
def withdraw(play_id: int):
    return _act(play_id, withdraw_play, "Withdrawn: it is no longer offered, printed or cached.")


@bp.post("/library/plays/<int:play_id>/withdraw-leave-behind")
@roles_required(*LIBRARY_ROLES)
def withdraw_handout(play_id: int):
    return _act(play_id, withdraw_leave_behind, "Leave-behind withdrawn; the play stays.")
