from flask import Blueprint

bp = Blueprint("leave_behinds", __name__)

from . import routes  # noqa: E402,F401
