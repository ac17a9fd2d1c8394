import uuid

from flask import abort, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from ..auth.access import roles_required, signed_in
from ..dashboard.services import territory_top
from ..extensions import db
from ..htmx import render, render_part
from ..models import (
    CAPTURE_ROLES,
    HCP,
    LEAVE_BEHIND_USES,
    USER_ROLES,
    AdoptionStage,
    Brand,
    Category,
    JourneyStage,
    utcnow,
)
from ..plays.services import observation_cards, where_it_stands
from ..suggest.services import suggest
from . import bp
from .compliance import REPORTING_INSTRUCTIONS
from .schemas import OBSERVATION
from .services import (
    barrier_choices,
    current_stages,
    find_hcp,
    last_brand,
    recent_hcps,
    recent_observations,
    record_observation,
    search_hcps,
    visible_observation,
)

PAGE = "capture/start.html"
# What an htmx refresh of the barrier list sends: the HCP, what is chosen, the filters.
CHOSEN_FIELDS = (
    "#capture-form [name=hcp], #capture-form [name=barrier]:checked, #capture-form [name=q], "
    "#capture-form [name=category], #capture-form [name=journey_stage]"
)


def _form_from_request(source) -> dict:
    """The capture form as a dict: barriers come as repeated `barrier` fields."""
    return {
        "id": source.get("id") or str(uuid.uuid4()),
        "hcp": source.get("hcp", ""),
        "barriers": source.getlist("barrier"),
        "note": source.get("note", ""),
        "observed_at": source.get("observed_at") or utcnow().isoformat(timespec="seconds"),
        "brand": source.get("brand") or None,
        "adoption_stage": source.get("adoption_stage") or None,
        "q": source.get("q", "").strip()[:100],
        "category": source.get("category", ""),
        "journey_stage": source.get("journey_stage", ""),
    }


def _page_context(form: dict, hcp: HCP | None, errors: dict | None = None,
                  hcp_query: str = "") -> dict:
    context = {"form": form, "errors": errors or {}, "hcp": hcp, "hcp_query": hcp_query,
               "include_chosen": CHOSEN_FIELDS}
    if hcp is None:  # who was seen: the HCP picker and the user's latest calls
        context.update(_hcp_picker(hcp_query))
        context["my_observations"] = recent_observations(current_user)
        return context
    context.update(_barrier_list(form, hcp))
    context.update(_suggestions(form))
    context["brands"] = db.session.scalars(db.select(Brand).order_by(Brand.name)).all()
    context["adoption_stages"] = db.session.scalars(
        db.select(AdoptionStage).order_by(AdoptionStage.position)
    ).all()
    context["stages_now"] = current_stages(hcp)
    if not form["brand"]:
        form["brand"] = last_brand(current_user)
    return context


# What the page's blocks show, each on its own: an htmx refresh of a block (a keystroke in a
# search) reads only what that block shows.
def _hcp_picker(query: str) -> dict:
    """The HCP picker's list: the HCPs in scope matching the query, or the user's recent ones."""
    if query:
        return {"hcp_query": query, "hcp_results": search_hcps(current_user, query)}
    return {"hcp_query": "", "hcp_results": [], "recent": recent_hcps(current_user)}


def _barrier_list(form: dict, hcp: HCP) -> dict:
    """The barrier picker and its filters. The categories and journey stages are read whole
    first (the filters list them), so each option finds its own in the session: read as each
    option was drawn, they took a statement each (15 for the whole list)."""
    categories = db.session.scalars(db.select(Category).order_by(Category.position)).all()
    stages = db.session.scalars(db.select(JourneyStage).order_by(JourneyStage.position)).all()
    choices = barrier_choices(current_user, hcp, form["barriers"], form["q"], form["category"],
                              form["journey_stage"])
    return {"form": form, "hcp": hcp, "choices": choices, "categories": categories,
            "journey_stages": stages}


def _suggestions(form: dict) -> dict:
    found = suggest(form["note"]) if form["note"].strip() else []
    return {"suggestions": found, "include_chosen": CHOSEN_FIELDS}


def _hcp_of(form: dict) -> HCP | None:
    """The form's HCP if it names one in the user's scope."""
    return find_hcp(current_user, form["hcp"]) if form["hcp"] else None


def _hcp_in_scope(form: dict) -> HCP:
    hcp = _hcp_of(form)
    if hcp is None:
        abort(404, "No HCP with this id in your territory.")
    return hcp


@bp.get("/capture")
@roles_required(*CAPTURE_ROLES)
def start():
    form = _form_from_request(request.args)
    hcp = _hcp_in_scope(form) if form["hcp"] else None
    context = _page_context(form, hcp, hcp_query=request.args.get("hcp_q", "").strip())
    if hcp is None:  # the full page only: HCP search keystrokes never pay for it
        context["territory_top"] = territory_top(current_user)
    return render(PAGE, **context)


@bp.get("/capture/hcps")
@roles_required(*CAPTURE_ROLES)
def hcps():
    query = request.args.get("hcp_q", "").strip()[:100]
    return render_part(PAGE, "hcp_results", lambda: _hcp_picker(query),
                       lambda: _page_context(_form_from_request(MultiDict()), None,
                                             hcp_query=query))


@bp.get("/capture/barriers")
@roles_required(*CAPTURE_ROLES)
def barriers():
    form = _form_from_request(request.args)
    hcp = _hcp_in_scope(form)
    return render_part(PAGE, "barrier_list", lambda: _barrier_list(form, hcp),
                       lambda: _page_context(form, hcp))


@bp.get("/capture/suggestions")
@roles_required(*CAPTURE_ROLES)
def suggestions():
    form = _form_from_request(request.args)
    hcp = _hcp_in_scope(form)
    return render_part(PAGE, "suggestions", lambda: _suggestions(form),
                       lambda: _page_context(form, hcp))


@bp.post("/capture")
@roles_required(*CAPTURE_ROLES)
def submit():
    form = _form_from_request(request.form)
    payload = {k: form[k] for k in ("id", "hcp", "barriers", "note", "observed_at", "brand",
                                    "adoption_stage")}
    try:
        data = OBSERVATION.load(payload)
        record_observation(signed_in(), data)
    except ValidationError as error:
        db.session.rollback()
        return render(PAGE, status=422, **_page_context(form, _hcp_of(form),
                                                        errors=error.messages))
    # The client's id is the observation's (a replay is the same call): no reload after commit.
    return redirect(url_for("capture.observation", observation_id=str(data["id"])), code=303)


@bp.get("/observations/<observation_id>")
@roles_required(*USER_ROLES)
def observation(observation_id: str):
    found = visible_observation(current_user, observation_id)
    if found is None:
        abort(404, "No such observation in your territory.")
    cards = observation_cards(found, current_user.role)
    return render("capture/observation.html", observation=found, cards=cards,
                  safety_instructions=REPORTING_INSTRUCTIONS, stands=where_it_stands(found),
                  leave_behind_uses=LEAVE_BEHIND_USES)
