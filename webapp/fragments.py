"""Markup of list entries that depend on nothing but their own content, rendered once per content.

A page of the feed renders 25 entries, each a macro call of some sixty template operations; the
same entries are shown to every viewer and on every reload until something newer arrives. An
entry given as a hashable value that determines its markup entirely (every name it shows read
with it, no lookups in the template) is rendered the first time it is seen and reused after:
any change to what it shows makes a different value, so nothing stale is ever served.
"""

from functools import lru_cache

from flask import current_app, get_template_attribute, request
from markupsafe import Markup

KEPT = 4096  # entries per process: a few MB


def render_each(template: str, macro: str, items) -> Markup:
    """`macro(item)` from `template` for each of `items`, joined."""
    if current_app.jinja_env.auto_reload:  # templates may change under a developer's hands
        render = get_template_attribute(template, macro)
        return Markup("").join(render(item) for item in items)
    root = request.script_root
    return Markup("").join(_rendered(root, template, macro, item) for item in items)


@lru_cache(maxsize=KEPT)
def _rendered(script_root: str, template: str, macro: str, item) -> Markup:
    return get_template_attribute(template, macro)(item)
