from flask import abort
from flask_login import current_user

from ..auth.access import roles_required
from ..htmx import render
from ..models import USER_ROLES
from . import bp
from .services import barrier_with_play, play_cards


@bp.get("/plays/<code>")
@roles_required(*USER_ROLES)
def show(code: str):
    barrier = barrier_with_play(code)
    if barrier is None:
        abort(404, "No barrier with this code.")
    (card,) = play_cards([barrier], current_user.role)
    return render("plays/show.html", card=card)
