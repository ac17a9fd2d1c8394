from ..auth.access import roles_required
from ..htmx import render
from . import bp
from .services import REPORTING_HOURS, safety_queue


@bp.get("/safety")
@roles_required("drug_safety", "admin")
def queue():
    return render("safety/queue.html", items=safety_queue(), reporting_hours=REPORTING_HOURS)
