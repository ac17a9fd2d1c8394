"""PDFs drawn by WeasyPrint from our HTML and a stylesheet of `static/`, kept per process by
their whole HTML: the same HTML gives the same bytes, and any change to what a page shows is a
different key. Laying out a page costs tens of milliseconds (a leave-behind) to seconds (the
dashboard's 25 pages at 1M calls); a repeat costs nothing."""

from functools import lru_cache
from pathlib import Path

from flask import current_app
from weasyprint import CSS, HTML


class KeptPdfs:
    """A renderer that keeps its last `size` PDFs."""

    def __init__(self, stylesheet: str, size: int):
        self.stylesheet = stylesheet  # relative to static/
        self._render = lru_cache(maxsize=size)(_render)

    def __call__(self, html: str) -> bytes:
        static = Path(current_app.static_folder)
        stylesheet = static / self.stylesheet
        return self._render(html, str(static), str(stylesheet), stylesheet.stat().st_mtime)

    def cache_info(self):
        return self._render.cache_info()

    def cache_clear(self) -> None:
        self._render.cache_clear()


def _render(html: str, base_url: str, stylesheet: str, stylesheet_mtime: float) -> bytes:
    return HTML(string=html, base_url=base_url).write_pdf(
        stylesheets=[_stylesheet(stylesheet, stylesheet_mtime)])


@lru_cache(maxsize=8)
def _stylesheet(path: str, mtime: float) -> CSS:
    """The parsed stylesheet, parsed again only when the file changes."""
    return CSS(filename=path)
