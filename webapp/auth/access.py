"""Who may call what: the user loaders and the role decorator every route declares."""

from functools import wraps

from flask import abort, g, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload

from ..errors import wants_json
from ..extensions import db, htmx, login_manager
from ..models import ApiToken, User

# Every page's header shows the user's territory: loaded with the user, one query not two. The
# statement is built once (every request runs it; `session.get` builds it anew each time).
_SIGNED_IN = (db.select(User).options(joinedload(User.territory))
              .where(User.id == bindparam("id")))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user a session names, if the session is as new as their last "sign out everywhere"."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None  # a cookie from before session versions, or not ours
    user = db.session.scalars(_SIGNED_IN, {"id": int(user_id)}).first()
    if user is None or user.session_version != int(version):
        return None
    return user


def signed_in() -> User:
    """The signed-in user itself, not `current_user`'s proxy, which looks the user up again on
    every attribute read: a sync batch reads its author some 400 times."""
    return current_user._get_current_object()


def template_user() -> dict:
    """Templates get the user itself once it is loaded: Flask-Login's proxy looks it up again
    on each of the layout's dozens of reads. Not loaded yet (a page without sign-in, an error
    page), the proxy stays, so rendering never loads a user a page did not ask for."""
    return {"current_user": g._login_user if "_login_user" in g else current_user}


# A token with its user and the user's territory, in one statement built once.
_BEARER = (db.select(ApiToken)
           .options(joinedload(ApiToken.user).joinedload(User.territory))
           .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None)))


@login_manager.request_loader
def load_user_from_bearer(req) -> User | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    found = db.session.scalars(_BEARER, {"token_hash": ApiToken.hash(token.strip())}).first()
    return found.user if found else None


@login_manager.unauthorized_handler
def unauthorized():
    if wants_json():
        return jsonify(errors={"_auth": ["Sign in or send a valid bearer token."]}), 401
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if htmx:
        # A fragment request cannot follow a redirect into the login page; ask htmx to navigate.
        return "", 401, {"HX-Redirect": target}
    from flask import redirect

    return redirect(target)


def roles_required(*roles: str):
    """Let through signed-in users whose role is one of `roles`; others get 401 or 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403, "Your role does not give access to this page.")
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator
