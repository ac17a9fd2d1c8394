from flask import Blueprint, current_app, request
from flask_login import current_user

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def require_csrf_for_browser_writes():
    """Bearer-token clients cannot be forged by another site; cookie sessions can."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not current_user.is_authenticated:
        return  # reads need no token, and the anonymous get their 401 from the view
    bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
    if not bearer and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()


from . import routes  # noqa: E402,F401
