"""One place that branches on htmx request headers."""

from flask import make_response, render_template
from jinja2_fragments.flask import render_block

from .extensions import htmx


def is_htmx() -> bool:
    """Return True for an htmx request that wants a fragment (not a boosted page load)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render the page, or only its named block for an htmx request; say so in Vary."""
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
