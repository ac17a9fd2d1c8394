from flask import abort, request
from flask_login import current_user

from ..audit import record
from ..auth.access import roles_required
from ..capture.services import find_hcp
from ..extensions import db
from ..models import USER_ROLES, utcnow
from ..plays.services import barrier_with_play
from . import bp
from .services import filename_for, offered_play, render_leave_behind


@bp.get("/plays/<code>/leave-behind.pdf")
@roles_required(*USER_ROLES)
def pdf(code: str):
    barrier = barrier_with_play(code)
    play = barrier and offered_play(barrier, request.args.get("play", ""))
    if barrier is None or barrier.retired_at is not None or play is None or play.leave_behind is None:
        abort(404, "This play has no approved leave-behind.")
    hcp = find_hcp(current_user, request.args.get("hcp", ""))
    if hcp is None:
        abort(404, "No HCP with this id in your territory.")
    body = render_leave_behind(barrier, play, hcp, utcnow().date())
    # Named before the commit, which expires the rows: after it the name reloaded the barrier,
    # its plays and the HCP, three statements a print.
    filename = filename_for(barrier, hcp)
    record(
        "leave_behind_printed",
        actor=current_user,
        entity="leave_behind",
        entity_id=barrier.code,
        hcp=hcp.external_id,
        play=play.lineage,
        version=play.version,
    )
    db.session.commit()
    return body, 200, {
        "Content-Type": "application/pdf",
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, max-age=300",
    }
