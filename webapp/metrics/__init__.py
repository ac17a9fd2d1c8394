from flask import Blueprint

bp = Blueprint("metrics", __name__)

from . import routes  # noqa: E402,F401
