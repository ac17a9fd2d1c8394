from flask import current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from ..auth.access import roles_required, signed_in
from ..capture.services import active_barriers, filter_barriers, find_hcp
from ..extensions import db
from ..library.services import reference_data
from ..models import CAPTURE_ROLES, HCP, USER_ROLES, Barrier, Play
from ..pagination import decode_cursor, page_by_key
from ..scope import scoped
from ..suggest.services import current_index, suggest
from ..sync.services import observations_since, sync_batch
from . import bp
from .openapi import build_spec
from .schemas import (
    BarrierPageSchema,
    BarrierQuerySchema,
    HCPPageSchema,
    HCPQuerySchema,
    MeSchema,
    ObservationBatchSchema,
    ObservationPageSchema,
    ObservationQuerySchema,
    ReferenceSchema,
    SuggestionQuerySchema,
    SuggestionsSchema,
    SyncResponseSchema,
)


def _errors(messages, status=422):
    return jsonify(errors=messages), status


def _load_args(schema):
    try:
        return schema.load(request.args.to_dict()), None
    except ValidationError as error:
        return None, _errors(error.messages)


@bp.get("/barriers")
@roles_required(*USER_ROLES)
def barriers():
    """The barrier library with each barrier's play, in code order, cursor-paginated."""
    args, problem = _load_args(BarrierQuerySchema())
    if problem:
        return problem
    query = filter_barriers(active_barriers(), args["q"], args["category"], args["journey_stage"])
    query = query.options(selectinload(Barrier.plays).selectinload(Play.leave_behind_version))
    items, next_cursor = page_by_key(query, Barrier.code, args["cursor"], args["limit"])
    return jsonify(BarrierPageSchema().dump({"items": items, "next": next_cursor}))


@bp.get("/hcps")
@roles_required(*USER_ROLES)
def hcps():
    """The HCPs in the caller's scope, by external id, for offline capture."""
    args, problem = _load_args(HCPQuerySchema())
    if problem:
        return problem
    query = scoped(db.select(HCP), current_user, HCP.territory_id).options(
        selectinload(HCP.territory)
    )
    items, next_cursor = page_by_key(query, HCP.external_id, args["cursor"], args["limit"])
    return jsonify(HCPPageSchema().dump({"items": items, "next": next_cursor}))


@bp.get("/reference")
@roles_required(*USER_ROLES)
def reference():
    """Names for category, stage, role and channel codes, and the brands."""
    return jsonify(ReferenceSchema().dump(reference_data()))


@bp.get("/me")
@roles_required(*USER_ROLES)
def me():
    """Who is signed in, and a CSRF token for the outbox's session-authenticated writes."""
    payload = MeSchema().dump(current_user)
    payload["csrf_token"] = generate_csrf()
    return jsonify(payload)


@bp.post("/observations")
@roles_required(*CAPTURE_ROLES)
def post_observations():
    """Store a batch of observations; each item answers created, duplicate or rejected."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _errors({"_body": ["Send a JSON object with an 'observations' list."]})
    try:
        envelope = ObservationBatchSchema().load(body)
    except ValidationError as error:
        return _errors(error.messages)
    results = sync_batch(signed_in(), envelope["observations"])
    return jsonify(SyncResponseSchema().dump({"results": results}))


@bp.get("/observations")
@roles_required(*USER_ROLES)
def list_observations():
    """Observations in the caller's scope, oldest first after the `since` cursor."""
    args, problem = _load_args(ObservationQuerySchema())
    if problem:
        return problem
    if args["since"] and decode_cursor(args["since"]) is None:
        return _errors({"since": ["Not a cursor this API gave out."]})
    items, next_cursor = observations_since(
        current_user, args["since"], args["limit"], current_app.config["SYNC_SETTLE_SECONDS"]
    )
    return jsonify(ObservationPageSchema().dump({"items": items, "next": next_cursor}))


@bp.post("/suggestions")
@roles_required(*USER_ROLES)
def suggestions():
    """The likeliest barriers for a free-text note, best first, at most five."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _errors({"_body": ["Send a JSON object with a 'text' field."]})
    try:
        args = SuggestionQuerySchema().load(body)
    except ValidationError as error:
        return _errors(error.messages)
    if args["hcp"] and find_hcp(current_user, args["hcp"]) is None:
        return _errors({"hcp": ["No HCP with this id in your territory."]}, status=404)
    return jsonify(SuggestionsSchema().dump({"suggestions": suggest(args["text"])}))


@bp.get("/suggest-index")
@roles_required(*USER_ROLES)
def suggest_index():
    """The suggestion index, for ranking on the device when offline."""
    return jsonify(current_index().to_json())


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API, generated from the marshmallow schemas."""
    return jsonify(build_spec())
