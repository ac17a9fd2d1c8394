import click

from . import bp
from .services import SHIPPED_LIBRARY, LibraryError, load_library


@bp.cli.command("load")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def load_command(path):
    """Load or update the barrier library (the shipped one by default)."""
    try:
        report = load_library(path or SHIPPED_LIBRARY)
    except LibraryError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Library loaded: {report}.")
