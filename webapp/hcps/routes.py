from flask import abort
from flask_login import current_user

from ..auth.access import roles_required
from ..capture.services import current_stages, find_hcp
from ..htmx import render
from ..models import USER_ROLES
from . import bp
from .services import hcp_history


@bp.get("/hcps/<external_id>")
@roles_required(*USER_ROLES)
def history(external_id: str):
    hcp = find_hcp(current_user, external_id)
    if hcp is None:
        abort(404, "No HCP with this id in your territory.")
    return render("hcps/history.html", hcp=hcp, history=hcp_history(current_user, hcp),
                  stages=current_stages(hcp))
