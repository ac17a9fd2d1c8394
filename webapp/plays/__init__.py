from flask import Blueprint

bp = Blueprint("plays", __name__)


@bp.app_template_filter("role_name")
def role_name(code: str) -> str:
    """The library's name for a role code."""
    from .services import role_label

    return role_label(code)


@bp.app_context_processor
def role_groups():
    from ..models import FIELD_ROLES, LIBRARY_ROLES

    return {"field_roles": FIELD_ROLES, "library_roles": LIBRARY_ROLES}


from . import routes  # noqa: E402,F401
