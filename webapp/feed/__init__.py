from flask import Blueprint
from markupsafe import Markup

from ..fragments import render_each
from ..pagination import cursor_of

bp = Blueprint("feed", __name__)
bp.add_app_template_global(cursor_of)


@bp.app_template_global()
def filters_query(filters: dict) -> dict:
    """The feed filters as query arguments, without paging cursors or empty values."""
    return {
        key: str(value)
        for key, value in filters.items()
        if value and key not in ("before", "after")
    }


@bp.app_template_global()
def feed_entries(items) -> Markup:
    """The feed entries (`FeedItem`s) as markup, each rendered once per content."""
    return render_each("feed/_item.html", "feed_item", items)


from . import routes  # noqa: E402,F401
