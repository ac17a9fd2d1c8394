"""Sign-in, users, API tokens and ending sessions."""

import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import record
from ..extensions import db
from ..models import USER_ROLES, ApiToken, Territory, User


class UserError(ValueError):
    pass


@cache
def _stand_in_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """Return the user for these credentials, auditing success and failure alike."""
    email = email.strip().lower()
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None:
        # Hash anyway, so an unknown address answers as slowly as a wrong password.
        check_password_hash(_stand_in_hash(), password)
        record("sign_in_failed", entity="user", email=email[:254], reason="unknown_account")
        db.session.commit()
        return None
    if not user.check_password(password):
        record("sign_in_failed", entity="user", entity_id=user.id, email=email[:254],
               reason="wrong_password")
        db.session.commit()
        return None
    record("sign_in", actor=user, entity="user", entity_id=user.id)
    db.session.commit()
    return user


def create_user(email: str, role: str, territory_code: str, name: str, password: str) -> User:
    email = email.strip().lower()
    if role not in USER_ROLES:
        raise UserError(f"Unknown role {role!r}. Choose one of: {', '.join(USER_ROLES)}.")
    territory = db.session.scalar(db.select(Territory).where(Territory.code == territory_code))
    if territory is None:
        raise UserError(f"Unknown territory {territory_code!r}.")
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        raise UserError(f"A user with email {email} already exists.")
    user = User(email=email, role=role, territory=territory, name=name.strip() or email)
    try:
        user.set_password(password)
    except ValueError as error:
        raise UserError(str(error)) from error
    db.session.add(user)
    db.session.flush()
    record("user_created", entity="user", entity_id=user.id, email=email, role=role)
    db.session.commit()
    return user


def issue_token(user: User, label: str = "", actor: User | None = None) -> str:
    """Create an API token for the user and return it; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    api_token = ApiToken(user=user, token_hash=ApiToken.hash(token), label=label.strip()[:80],
                         last4=token[-4:])
    db.session.add(api_token)
    db.session.flush()
    record("api_token_created", actor=actor or user, entity="api_token", entity_id=api_token.id,
           user=user.id, label=api_token.label)
    db.session.commit()
    return token


def user_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        db.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    ))


def revoke_token(actor: User, api_token: ApiToken) -> bool:
    """Revoke the token; False when it already was (nothing changes, nothing is audited)."""
    if not api_token.active:
        return False
    api_token.revoke()
    record("api_token_revoked", actor=actor, entity="api_token", entity_id=api_token.id,
           user=api_token.user_id)
    db.session.commit()
    return True


def sign_out_everywhere(actor: User, user: User, revoke_tokens: bool = False) -> int:
    """End every session of the user (and, if asked, revoke their API tokens); return how many."""
    user.end_all_sessions()
    revoked = 0
    if revoke_tokens:
        for api_token in user_tokens(user):
            if api_token.active:
                api_token.revoke()
                revoked += 1
    record("signed_out_everywhere", actor=actor, entity="user", entity_id=user.id,
           tokens_revoked=revoked)
    db.session.commit()
    return revoked
