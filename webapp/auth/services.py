"""Sign-in, users and API tokens."""

import secrets

from ..audit import record
from ..extensions import db
from ..models import USER_ROLES, ApiToken, Territory, User


class UserError(ValueError):
    pass


def authenticate(email: str, password: str) -> User | None:
    """Return the user for these credentials, auditing success and failure alike."""
    user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.check_password(password):
        record("sign_in_failed", entity="user", email=email.strip().lower()[:254])
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


def issue_token(user: User) -> str:
    """Create an API token for the user and return it; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=ApiToken.hash(token)))
    record("api_token_created", actor=user, entity="user", entity_id=user.id)
    db.session.commit()
    return token
