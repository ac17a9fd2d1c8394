"""Leave-behind PDFs: one A4 page per play, personalised for the HCP's practice."""

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask import current_app, render_template
from weasyprint import CSS, HTML

from ..models import HCP, Barrier, Play

STYLESHEET = "css/leave_behind.css"
# Rendered PDFs kept per process, keyed by their whole HTML: the same play, leave-behind, HCP
# and day give the same bytes, and any change to one of them is a different key.
CACHED_PDFS = 256


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
    static = Path(current_app.static_folder)
    stylesheet = static / STYLESHEET
    return _pdf(html, str(static), str(stylesheet), stylesheet.stat().st_mtime)


@lru_cache(maxsize=CACHED_PDFS)
def _pdf(html: str, base_url: str, stylesheet: str, stylesheet_mtime: float) -> bytes:
    return HTML(string=html, base_url=base_url).write_pdf(
        stylesheets=[_stylesheet(stylesheet, stylesheet_mtime)])


@lru_cache(maxsize=4)
def _stylesheet(path: str, mtime: float) -> CSS:
    """The parsed stylesheet, parsed again only when the file changes."""
    return CSS(filename=path)


def filename_for(barrier: Barrier, hcp: HCP) -> str:
    """A file name safe in a Content-Disposition header, whatever an import put in the ids."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"{barrier.code}-{hcp.external_id}") + ".pdf"
