from flask import Blueprint

bp = Blueprint("library", __name__, cli_group="library")

from . import cli, routes  # noqa: E402,F401
