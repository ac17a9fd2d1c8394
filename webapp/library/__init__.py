from flask import Blueprint

bp = Blueprint("library", __name__, cli_group="library")

from . import cli  # noqa: E402,F401
