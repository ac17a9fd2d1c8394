"""Leave-behind PDFs: one A4 page per play, personalised for the HCP's practice."""

import re
from datetime import date

from flask import render_template

from ..models import HCP, Barrier, Play
from ..pdf import KeptPdfs

# Rendered leave-behinds kept per process (the same play, leave-behind, HCP and day give the
# same HTML).
LEAVE_BEHINDS = KeptPdfs("css/leave_behind.css", size=256)


def offered_play(barrier: Barrier, play_id: str = "") -> Play | None:
    """The play version asked for if it is one of the barrier's offered plays, else its default."""
    if play_id:
        return next((p for p in barrier.offered_plays() if str(p.id) == play_id), None)
    return barrier.play


def render_leave_behind(barrier: Barrier, play: Play, hcp: HCP, today: date) -> bytes:
    """Return the PDF bytes of the play's leave-behind for this HCP's practice."""
    html = render_template(
        "leave_behinds/leave_behind.html",
        barrier=barrier,
        play=play,
        leave_behind=play.leave_behind,
        hcp=hcp,
        today=today,
    )
    return LEAVE_BEHINDS(html)


def filename_for(barrier: Barrier, hcp: HCP) -> str:
    """A file name safe in a Content-Disposition header, whatever an import put in the ids."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"{barrier.code}-{hcp.external_id}") + ".pdf"
