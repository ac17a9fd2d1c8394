from flask import request
from flask_login import current_user

from ..auth.access import roles_required
from ..htmx import render
from ..models import USER_ROLES
from . import bp
from .services import DIMENSIONS, field_metrics


@bp.get("/metrics")
@roles_required(*USER_ROLES)
def index():
    dimension = request.args.get("by", "barrier")
    if dimension not in DIMENSIONS:
        dimension = "barrier"
    figures = field_metrics(current_user, dimension)
    return render("metrics/index.html", block="tables", dimension=dimension,
                  dimensions=DIMENSIONS, speed=figures.speed, success=figures.success,
                  counted_at=figures.counted_at)
