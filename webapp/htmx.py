"""One place that branches on htmx request headers."""

from collections.abc import Callable

from flask import make_response, render_template
from jinja2_fragments.flask import render_block

from .extensions import htmx


def is_htmx() -> bool:
    """Return True for an htmx request that wants a fragment (not a boosted page load)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render the page, or only its named block for an htmx request; say so in Vary."""
    if block and is_htmx():
        return _respond(render_block(template, block, **context), status)
    return _respond(render_template(template, **context), status)


def render_part(template: str, block: str, part: Callable[[], dict], page: Callable[[], dict],
                status: int = 200):
    """As render, for a block that needs a fraction of what its page shows: an htmx request
    gets the block made from `part()` alone, any other the whole page from `page()`."""
    if is_htmx():
        return _respond(render_block(template, block, **part()), status)
    return _respond(render_template(template, **page()), status)


def _respond(body: str, status: int):
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
