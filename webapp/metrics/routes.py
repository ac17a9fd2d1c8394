from flask import request
from flask_login import current_user

from ..auth.access import roles_required
from ..htmx import render
from ..models import USER_ROLES
from . import bp
from .services import DIMENSIONS, success_rates, time_to_play


@bp.get("/metrics")
@roles_required(*USER_ROLES)
def index():
    dimension = request.args.get("by", "barrier")
    if dimension not in DIMENSIONS:
        dimension = "barrier"
    return render("metrics/index.html", block="tables", dimension=dimension,
                  dimensions=DIMENSIONS, speed=time_to_play(current_user, dimension),
                  success=success_rates(current_user, dimension))
