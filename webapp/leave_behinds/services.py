"""Leave-behind PDFs: one A4 page per play, personalised for the HCP's practice."""

from datetime import date
from pathlib import Path

from flask import current_app, render_template
from weasyprint import CSS, HTML

from ..models import HCP, Barrier

STYLESHEET = "css/leave_behind.css"


def render_leave_behind(barrier: Barrier, hcp: HCP, today: date) -> bytes:
    """Return the PDF bytes of the barrier's leave-behind for this HCP's practice."""
    leave_behind = barrier.play.leave_behind
    html = render_template(
        "leave_behinds/leave_behind.html",
        barrier=barrier,
        play=barrier.play,
        leave_behind=leave_behind,
        hcp=hcp,
        today=today,
    )
    static = Path(current_app.static_folder)
    return HTML(string=html, base_url=str(static)).write_pdf(
        stylesheets=[CSS(filename=str(static / STYLESHEET))]
    )


def filename_for(barrier: Barrier, hcp: HCP) -> str:
    return f"{barrier.code}-{hcp.external_id}.pdf".replace("/", "-")
