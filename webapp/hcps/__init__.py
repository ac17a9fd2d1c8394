from flask import Blueprint

bp = Blueprint("hcps", __name__, cli_group="hcps")

from . import cli, routes  # noqa: E402,F401
