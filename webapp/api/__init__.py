from flask import Blueprint, request

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def require_csrf_for_browser_writes():
    """Bearer-token clients cannot be forged by another site; cookie sessions can."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.headers.get(
        "Authorization", ""
    ).lower().startswith("bearer "):
        csrf.protect()


from . import routes  # noqa: E402,F401
