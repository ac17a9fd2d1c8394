"""Backup and restore: every table in one portable file, and back, all or nothing."""

from flask import Blueprint

# No CLI group: the commands are `flask backup FILE` and `flask restore FILE`.
bp = Blueprint("backup", __name__, cli_group=None)

from . import cli  # noqa: E402,F401
