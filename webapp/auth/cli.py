import sys

import click

from ..extensions import db
from ..models import User
from . import bp
from .services import UserError, create_user, issue_token


@bp.cli.command("create")
@click.argument("email")
@click.option("--role", required=True, help="A role code, e.g. sales_rep or hq_brand.")
@click.option("--territory", "territory_code", required=True, help="Home territory code.")
@click.option("--name", default="", help="Display name.")
def create_command(email, role, territory_code, name):
    """Create a user; the password comes from stdin's first line, or a prompt."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(email, role, territory_code, name, password)
    except UserError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.email} ({user.role}, {user.territory.code}).")


@bp.cli.command("token")
@click.argument("email")
@click.option("--label", default="", help="A name to tell the token apart, e.g. 'CRM sync'.")
def token_command(email, label):
    """Print a new API token for EMAIL as the last line of output."""
    user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    token = issue_token(user, label)
    click.echo(f"New API token for {user.email} (shown once, only its hash is stored):")
    click.echo(token)
