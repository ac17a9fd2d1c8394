from flask import Blueprint, g

bp = Blueprint("plays", __name__)


@bp.app_template_filter("role_name")
def role_name(code: str) -> str:
    """The library's name for a role code, looked up once per request."""
    from .services import role_names

    if "role_names" not in g:
        g.role_names = role_names()
    return g.role_names.get(code, code.replace("_", " "))


@bp.app_context_processor
def role_groups():
    from ..models import FIELD_ROLES, LIBRARY_ROLES

    return {"field_roles": FIELD_ROLES, "library_roles": LIBRARY_ROLES}


from . import routes  # noqa: E402,F401
