import click

from . import bp
from .services import BackupError, restore_backup, write_backup


def _echo_counts(counts: dict[str, int]) -> None:
    width = max((len(name) for name in counts), default=0)
    for name, count in counts.items():
        click.echo(f"  {name:<{width}}  {count:>9,}")


@bp.cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path):
    """Write every table to PATH (gzipped JSON lines), from one consistent snapshot."""
    try:
        counts = write_backup(path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up {sum(counts.values()):,} rows of {len(counts)} tables to {path}:")
    _echo_counts(counts)


@bp.cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True,
              help="Delete every row first; the restore still happens in one transaction.")
def restore_command(path, replace):
    """Load a backup made by `flask backup`, all or nothing; refuses a non-empty database."""
    try:
        counts = restore_backup(path, replace=replace)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {sum(counts.values()):,} rows into {len(counts)} tables from {path}:")
    _echo_counts(counts)
