from flask import Blueprint

bp = Blueprint("plays", __name__)

from . import routes  # noqa: E402,F401
