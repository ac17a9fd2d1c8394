from flask import Blueprint, current_app, request
from flask_login import current_user

from ..extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _api_client() -> str:
    """Who a request counts against: the signed-in user (token or session), else the address."""
    if current_user.is_authenticated:
        return f"api-user:{current_user.get_id()}"
    return f"api-address:{request.remote_addr or 'unknown'}"


# One limit for the whole API, per user: a tablet's outbox replays far below it (a sync is one
# request for up to 500 calls); a runaway script or a stolen token is slowed down.
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_api_client)(bp)


@bp.before_request
def require_csrf_for_browser_writes():
    """Bearer-token clients cannot be forged by another site; cookie sessions can."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not current_user.is_authenticated:
        return  # reads need no token, and the anonymous get their 401 from the view
    bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
    if not bearer and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()


from . import routes  # noqa: E402,F401
