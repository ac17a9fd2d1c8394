import click

from . import bp
from .services import HCPImportError, import_hcps


@bp.cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_command(file):
    """Import or update HCPs from FILE.csv (external_id,name,specialty,account,territory,segment)."""
    with open(file, encoding="utf-8-sig", newline="") as handle:
        try:
            report = import_hcps(handle)
        except HCPImportError as error:
            for problem in error.problems:
                click.echo(problem, err=True)
            raise click.ClickException(
                f"{len(error.problems)} bad row(s); nothing was imported."
            ) from error
        except UnicodeDecodeError as error:
            raise click.ClickException("The file is not UTF-8 text; nothing was imported.") from error
    click.echo(f"HCPs imported: {report.created} created, {report.updated} updated.")
    if report.territories_created:
        click.echo(f"New territories: {', '.join(report.territories_created)}")
