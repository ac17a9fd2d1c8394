from flask import jsonify, request
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from ..auth.access import roles_required
from ..capture.services import active_barriers, filter_barriers
from ..extensions import db
from ..models import USER_ROLES, Barrier, Play
from . import bp
from .schemas import BarrierPageSchema, BarrierQuerySchema


def _load_args(schema):
    try:
        return schema.load(request.args.to_dict()), None
    except ValidationError as error:
        return None, (jsonify(errors=error.messages), 422)


@bp.get("/barriers")
@roles_required(*USER_ROLES)
def barriers():
    """The barrier library with each barrier's play, in code order, cursor-paginated."""
    args, problem = _load_args(BarrierQuerySchema())
    if problem:
        return problem
    query = filter_barriers(active_barriers(), args["q"], args["category"], args["journey_stage"])
    if args["cursor"]:
        query = query.where(Barrier.code > args["cursor"])
    query = query.options(selectinload(Barrier.play).selectinload(Play.leave_behind))
    rows = list(db.session.scalars(query.order_by(Barrier.code).limit(args["limit"] + 1)))
    items = rows[: args["limit"]]
    next_cursor = items[-1].code if len(rows) > args["limit"] else None
    return jsonify(BarrierPageSchema().dump({"items": items, "next": next_cursor}))
