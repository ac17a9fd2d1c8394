from flask import render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from ..audit import record
from ..auth.access import roles_required
from ..extensions import db
from ..htmx import render
from ..models import FEED_ROLES, Brand, Territory
from ..pdf import KeptPdfs
from ..replica import from_replica
from ..scope import in_scope
from . import bp
from .schemas import DashboardFilterSchema
from .services import EFFECTIVE_RATE, MIN_JUDGED, build_dashboard

PAGE = "dashboard/index.html"
# A board's print laid out once per process (25 pages at 1M calls: seconds).
PRINTED_BOARDS = KeptPdfs("css/dashboard_pdf.css", size=16)


def _filters() -> tuple[dict, dict]:
    """Parse the filters; a bad one is reported and dropped, never fatal."""
    raw = {k: v for k, v in request.args.items() if k in DashboardFilterSchema().fields}
    try:
        data, errors = DashboardFilterSchema().load(raw), {}
    except ValidationError as error:
        errors = error.messages
        data = DashboardFilterSchema().load({k: v for k, v in raw.items() if k not in errors})
    filters = {"days": data["days"], "brand": None, "territory": None}
    if data["brand"]:
        filters["brand"] = db.session.scalar(db.select(Brand).where(Brand.code == data["brand"]))
    if data["territory"]:
        territory = db.session.scalar(db.select(Territory).where(Territory.code == data["territory"]))
        if territory is not None and in_scope(current_user, territory.id):
            filters["territory"] = territory
    return filters, errors


def _context() -> dict:
    filters, errors = _filters()
    territories = db.select(Territory).order_by(Territory.code)
    return {
        "board": build_dashboard(current_user, filters),
        "errors": errors,
        "brands": db.session.scalars(db.select(Brand).order_by(Brand.name)).all(),
        "territories": [t for t in db.session.scalars(territories) if in_scope(current_user, t.id)],
        "effective_rate": EFFECTIVE_RATE,
        "min_judged": MIN_JUDGED,
        "query": {k: v for k, v in request.args.items() if k in ("days", "brand", "territory")},
    }


@bp.get("/dashboard")
@roles_required(*FEED_ROLES)
@from_replica
def index():
    context = _context()
    return render(PAGE, block="board", status=422 if context["errors"] else 200, **context)


@bp.get("/dashboard.pdf")
@roles_required(*FEED_ROLES)
@from_replica
def pdf():
    """The same dashboard on A4 pages, for the slide deck and the meeting."""
    context = _context()
    # The page names its board's counted time, not the time of printing: printed again, the
    # same board is the same HTML, and the same bytes.
    body = PRINTED_BOARDS(render_template("dashboard/pdf.html", **context))
    record("dashboard_printed", actor=current_user, entity="dashboard", **context["query"])
    db.session.commit()
    return body, 200, {"Content-Type": "application/pdf", "Cache-Control": "private, no-store",
                       "Content-Disposition": 'inline; filename="clearpath-dashboard.pdf"'}
