import click

from . import bp
from .services import load_demo


@bp.cli.command("load")
def load_command():
    """Load the demo data and print a fresh password for each demo user."""
    report = load_demo()
    click.echo(f"Demo loaded: {report.hcps} HCPs, {report.observations} new observations, "
               f"{report.runs} plays run.")
    click.echo("Demo sign-ins (new passwords every run; shown only here):")
    width = max(len(email) for _, email, _ in report.credentials)
    for role, email, password in report.credentials:
        click.echo(f"  {email:<{width}}  {password}  ({role})")
