import time
import unicodedata

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse
from marshmallow import ValidationError

from ..audit import record
from ..extensions import db, limiter
from ..htmx import render
from ..models import USER_ROLES, ApiToken
from ..urls import local_path
from . import bp
from .access import roles_required
from .schemas import LoginSchema, NewTokenSchema, SignOutEverywhereSchema
from .services import authenticate, issue_token, revoke_token, sign_out_everywhere, user_tokens

# One message for a wrong password and an unknown address, and one for too many attempts
# whichever limit was reached: neither says whether the account exists.
NO_MATCH = "That email and password do not match an account."
THROTTLED = "Too many sign-in attempts. Wait a few minutes, then try again."
# A throttled attempt is audited once per address and account in this window, not each time.
THROTTLE_AUDIT_WINDOW = parse("1 per 5 minutes")


def _posted_email() -> str:
    return request.form.get("email", "").replace("\x00", "").strip().lower()[:254]


def _failed_attempt(response) -> bool:
    """Only refused attempts count against the limits: signing in costs nothing."""
    return response.status_code == 422


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
               key_func=lambda: "address:" + (request.remote_addr or "unknown"),
               deduct_when=_failed_attempt)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=lambda: "account:" + _posted_email(), deduct_when=_failed_attempt)
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("index"))
        return render("auth/login.html", form={"next": request.args.get("next", "")}, errors={})
    form = request.form.to_dict()
    try:
        data = LoginSchema().load(form)
    except ValidationError as error:
        return render("auth/login.html", form=form, errors=error.normalized_messages(), status=422)
    user = authenticate(data["email"], data["password"])
    if user is None:
        return render("auth/login.html", form=form, errors={"_form": [NO_MATCH]}, status=422)
    session.clear()  # a fresh session (and CSRF token) at every sign-in: no fixation
    login_user(user)
    return redirect(_next_path(data["next"]))


def _next_path(target: str) -> str:
    """Where to go after signing in: a path on this site, never a header-breaking one."""
    if any(unicodedata.category(char) == "Cc" for char in target):
        return url_for("index")
    return local_path(target, url_for("index"))


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error):
    email = _posted_email()
    key = f"{request.remote_addr}|{email}"
    try:
        first = limiter.limiter.hit(THROTTLE_AUDIT_WINDOW, current_app.config["RATELIMIT_KEY_PREFIX"],
                                    "sign-in-throttled", key)
    except Exception:  # the counter's store is down: audit rather than lose the event
        first = True
    if first:
        record("sign_in_throttled", entity="user", email=email)
        db.session.commit()
    form = {"email": request.form.get("email", ""), "next": request.form.get("next", "")}
    response = render("auth/login.html", form=form, errors={"_form": [THROTTLED]}, status=429)
    limit = limiter.current_limit
    wait = int(limit.reset_at - time.time()) if limit is not None else 60
    response.headers["Retry-After"] = str(max(wait, 1))
    return response


@bp.post("/logout")
@login_required
def logout():
    record("sign_out", actor=current_user, entity="user", entity_id=current_user.id)
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


# The account page: your API tokens, and signing out everywhere. -------------------------------
def _account_page(status: int = 200, new_token: str | None = None, errors: dict | None = None):
    response = render("auth/account.html", status=status, tokens=user_tokens(current_user),
                      new_token=new_token, errors=errors or {})
    if new_token:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account")
@roles_required(*USER_ROLES)
def account():
    return _account_page()


@bp.post("/account/tokens")
@roles_required(*USER_ROLES)
def create_token():
    try:
        data = NewTokenSchema().load(request.form.to_dict())
    except ValidationError as error:
        return _account_page(status=422, errors=error.normalized_messages())
    # Shown in this answer only: there is no redirect that could carry it, and no copy kept.
    return _account_page(new_token=issue_token(current_user, data["label"]))


@bp.post("/account/tokens/<int:token_id>/revoke")
@roles_required(*USER_ROLES)
def revoke_own_token(token_id: int):
    api_token = db.session.get(ApiToken, token_id)
    if api_token is None or api_token.user_id != current_user.id:
        abort(404, "No such API token of yours.")
    if revoke_token(current_user, api_token):
        flash(f"Token {_token_name(api_token)} revoked: it no longer opens the API.", "info")
    return redirect(url_for("auth.account"), code=303)


@bp.post("/account/sign-out-everywhere")
@roles_required(*USER_ROLES)
def sign_out_all():
    try:
        data = SignOutEverywhereSchema().load(request.form.to_dict())
    except ValidationError as error:
        return _account_page(status=422, errors=error.normalized_messages())
    revoked = sign_out_everywhere(current_user, current_user, data["revoke_tokens"])
    logout_user()
    session.clear()
    message = "You are signed out on every device."
    if revoked:
        message += f" {revoked} API token{'s' if revoked != 1 else ''} revoked."
    flash(message, "info")
    return redirect(url_for("auth.login"), code=303)


def _token_name(api_token: ApiToken) -> str:
    return f"#{api_token.id}" + (f" ({api_token.label})" if api_token.label else "")
