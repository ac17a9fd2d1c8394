from flask import Response, current_app, redirect, request, stream_with_context, url_for
from flask_login import current_user
from marshmallow import ValidationError

from ..audit import record
from ..auth.access import roles_required
from ..csv_export import csv_lines
from ..extensions import db
from ..htmx import is_htmx, render
from ..models import FEED_ROLES, utcnow
from ..replica import from_replica
from . import bp
from .schemas import FeedFilterSchema
from .services import EXPORT_HEADER, export_rows, feed_page, filter_options, newer_than

PAGE = "feed/index.html"
FILTERS = FeedFilterSchema()  # a schema keeps no state between loads; building one deep-copies its fields


def _filters() -> tuple[dict, dict]:
    """Parse the filter query string; bad fields are reported and left out, never fatal."""
    raw = {key: value for key, value in request.args.items() if key in FILTERS.fields}
    try:
        return FILTERS.load(raw), {}
    except ValidationError as error:
        bad = set(error.messages)
        clean = FILTERS.load({k: v for k, v in raw.items() if k not in bad})
        return clean, error.messages


@bp.get("/feed")
@roles_required(*FEED_ROLES)
@from_replica
def index():
    filters, errors = _filters()
    page = feed_page(current_user, filters)
    return render(
        PAGE,
        block="feed_results",
        status=422 if errors else 200,
        page=page,
        filters=filters,
        errors=errors,
        poll_seconds=current_app.config["FEED_POLL_SECONDS"],
        **filter_options(current_user),
    )


@bp.get("/feed/updates")
@roles_required(*FEED_ROLES)
@from_replica
def updates():
    """New items since the `after` cursor, to prepend; 204 (no swap, no body) when none.
    Opened as a page (a reload, no JavaScript), it is the feed with the same filters."""
    if not is_htmx():
        shown = {k: v for k, v in request.args.items() if k in FILTERS.fields and k != "after"}
        return redirect(url_for("feed.index", **shown), code=303)
    filters, errors = _filters()
    if errors:
        return "", 204
    items = newer_than(current_user, filters, filters["after"])
    if not items:
        return "", 204, {"Vary": "HX-Request", "Cache-Control": "no-store"}
    return render(
        "feed/_updates.html",
        items=items,
        filters=filters,
        poll_seconds=current_app.config["FEED_POLL_SECONDS"],
    )


@bp.get("/feed/export.csv")
@roles_required(*FEED_ROLES)
@from_replica
def export():
    """The filtered feed as CSV, streamed: a million rows never sit in memory."""
    filters, errors = _filters()
    if errors:
        return {"errors": errors}, 422
    rows = export_rows(current_user, filters)
    record("feed_exported", actor=current_user, entity="feed",
           filters={k: str(v) for k, v in filters.items() if v})
    db.session.commit()
    name = f"clearpath-feed-{utcnow():%Y%m%d-%H%M}.csv"
    body = stream_with_context(csv_lines(EXPORT_HEADER, rows))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
