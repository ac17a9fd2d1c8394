"""Backups: every table of the models in one gzipped JSON-lines file, restored all or nothing.

The file is portable between SQLite and PostgreSQL because each value is written by its
column's type, not as a driver happens to return it: datetimes in ISO 8601 with their offset,
dates and times in ISO 8601, decimals as strings, bytes in base64, JSON columns as JSON.
Line one is a header (format, version, schema revision, each table's columns), then one line
per row, parents before children, then a trailer with each table's row count, so a file cut
short is never taken for a complete one. In a nullable JSON column, `null` restores as SQL
NULL (a backup cannot tell it from a stored JSON null).

The tables are `db.metadata.sorted_tables`: a table added to the models is backed up and
restored with no change here.
"""

import base64
import enum
import gzip
import json
import os
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from copy import copy
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Integer, Table, bindparam, func, inspect, select, text, types
from sqlalchemy.exc import SQLAlchemyError

from ..audit import record
from ..extensions import db
from ..models import utcnow

FORMAT = "clearpath-backup"
VERSION = 1
BATCH_ROWS = 1000
GZIP_MAGIC = b"\x1f\x8b"


class BackupError(Exception):
    """A backup that could not be written or restored; nothing was changed."""


# Values by column type ----------------------------------------------------------------------
def _base_type(type_):
    while isinstance(type_, types.TypeDecorator) and not isinstance(type_, types.Interval):
        type_ = type_.impl_instance
    return type_


def _kind(column) -> str:
    """How a column's values are written: by the type the models declare, not the driver's."""
    type_ = _base_type(column.type)
    for kind, type_class in (
        ("interval", types.Interval),
        ("datetime", types.DateTime),
        ("date", types.Date),
        ("time", types.Time),
        ("json", types.JSON),
        ("bytes", types.LargeBinary),
        ("uuid", types.Uuid),
    ):
        if isinstance(type_, type_class):
            return kind
    if isinstance(type_, types.Numeric) and type_.asdecimal:
        return "decimal"
    return "plain"


def _encode(kind: str, value):
    if value is None:
        return None
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "interval":
        return value.total_seconds()
    if kind in ("decimal", "uuid"):
        return str(value)
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, enum.Enum):
        return value.name
    return value


def _plain_check(column) -> Callable[[object], bool] | None:
    """A check that a plain JSON value fits the column, so a damaged file fails on SQLite too."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return None
    if python_type is bool:
        return lambda value: isinstance(value, bool)
    if python_type is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if python_type is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if python_type is str:
        return lambda value: isinstance(value, str)
    return None


def _decoder(column) -> Callable[[object], object]:
    """Turn a value read from the file back into what the column's type binds."""
    kind, type_ = _kind(column), _base_type(column.type)

    def decode_datetime(value):
        parsed = datetime.fromisoformat(value)
        if type_.timezone and parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset")
        return parsed

    decoders = {
        "datetime": decode_datetime,
        "date": date.fromisoformat,
        "time": time.fromisoformat,
        "interval": lambda value: timedelta(seconds=value),
        "decimal": Decimal,
        "bytes": lambda value: base64.b64decode(value, validate=True),
        "uuid": lambda value: uuid.UUID(value) if type_.as_uuid else str(uuid.UUID(value)),
    }
    if kind in decoders:
        return decoders[kind]
    check = _plain_check(column) if kind == "plain" else None
    if check is None:
        return lambda value: value

    def decode_plain(value):
        if not check(value):
            raise ValueError(f"{value!r} is not a {column.type.python_type.__name__}")
        return value

    return decode_plain


def _insert_statement(table: Table):
    """An INSERT for the table's rows; in a nullable JSON column None means SQL NULL."""
    statement = table.insert()
    for column in table.columns:
        if column.nullable and _kind(column) == "json":
            sql_null = copy(column.type)
            sql_null.none_as_null = True
            statement = statement.values({column.name: bindparam(column.name, type_=sql_null)})
    return statement


def _schema_revision(connection) -> str | None:
    """The Alembic revision the database is at, or None when Alembic never ran on it."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return ",".join(sorted(versions)) or None


def _line(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _db_message(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


# Backup --------------------------------------------------------------------------------------
def write_backup(path) -> dict[str, int]:
    """Write every table to `path` from one consistent snapshot; return the rows per table.

    The file appears only once complete (written beside it, then renamed), readable only by
    its owner: it holds password and token hashes.
    """
    path = Path(path)
    directory = path.resolve().parent
    if not directory.is_dir():
        raise BackupError(f"There is no directory {directory} to write the backup into.")
    descriptor, partial = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as raw:
            with gzip.GzipFile(filename=path.name, fileobj=raw, mode="wb") as out:
                counts = _dump(out)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    except (OSError, SQLAlchemyError, TypeError, ValueError) as error:
        with suppress(OSError):
            os.unlink(partial)
        detail = _db_message(error) if isinstance(error, SQLAlchemyError) else error
        raise BackupError(f"The backup failed and {path} was not written: {detail}") from error
    record("backup_created", entity="database", file=str(path.resolve()),
           rows=sum(counts.values()), tables=counts)
    db.session.commit()
    return counts


def _dump(out) -> dict[str, int]:
    tables = db.metadata.sorted_tables
    counts: dict[str, int] = {}
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        elif connection.dialect.name == "sqlite":
            # The sqlite3 module opens no transaction for reads; one BEGIN makes every
            # table come from the same snapshot (WAL lets writers carry on meanwhile).
            connection.exec_driver_sql("BEGIN")
        out.write(_line({
            "format": FORMAT,
            "version": VERSION,
            "created_at": utcnow().isoformat(),
            "database": connection.dialect.name,
            "schema_revision": _schema_revision(connection),
            "tables": [{"name": t.name, "columns": list(t.columns.keys())} for t in tables],
        }))
        for table in tables:
            kinds = [(column.name, _kind(column)) for column in table.columns]
            query = select(table).order_by(*table.primary_key.columns)
            count = 0
            for row in connection.execute(query.execution_options(yield_per=BATCH_ROWS)):
                values = {name: _encode(kind, value) for (name, kind), value in zip(kinds, row, strict=True)}
                out.write(_line({"table": table.name, "row": values}))
                count += 1
            counts[table.name] = count
        out.write(_line({"end": True, "counts": counts}))
        connection.rollback()
    return counts


# Restore -------------------------------------------------------------------------------------
def restore_backup(path, replace: bool = False) -> dict[str, int]:
    """Load a backup in one transaction and return the rows per table.

    Refuses a database that holds any row unless `replace`, which deletes every row first
    (children before parents) in the same transaction. Any problem rolls everything back.
    """
    path = Path(path)
    db.session.rollback()
    try:
        with _records(path) as records:
            header = _header(path, next(records, None))
            counts = _restore(path, header, records, replace)
            record("backup_restored", entity="database", file=str(path.resolve()),
                   replaced=replace, rows=sum(counts.values()), tables=counts,
                   backup_created_at=header.get("created_at"))
            db.session.commit()
            return counts
    except BackupError:
        db.session.rollback()
        raise
    except SQLAlchemyError as error:
        db.session.rollback()
        raise BackupError(f"The restore failed and changed nothing: {_db_message(error)}") from error
    except (OSError, EOFError, zlib.error) as error:
        db.session.rollback()
        raise BackupError(
            f"{path} could not be read ({error}): it is damaged or not a Clearpath backup. "
            "Nothing was changed."
        ) from error


@contextmanager
def _records(path: Path) -> Iterator[Iterator[tuple[int, dict]]]:
    """The file's lines as (line number, JSON object); gzipped or plain JSON lines."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw

        def parse():
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError:
                    value = None
                if not isinstance(value, dict):
                    raise BackupError(
                        f"{path}, line {number}: not a JSON object, so this is not a Clearpath "
                        "backup or it is damaged. Nothing was changed."
                    )
                yield number, value

        yield parse()


def _header(path: Path, first) -> dict:
    header = first[1] if first else None
    if not header or header.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Clearpath backup (no backup header on its first "
                          "line). Nothing was changed.")
    if header.get("version") != VERSION:
        raise BackupError(f"{path} is a version {header.get('version')!r} backup; this "
                          f"Clearpath reads version {VERSION}. Nothing was changed.")
    tables = header.get("tables")
    if not isinstance(tables, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("columns"), list)
        for t in tables
    ):
        raise BackupError(f"{path} has a damaged header (its table list). Nothing was changed.")
    known = db.metadata.tables
    for entry in tables:
        table = known.get(entry["name"])
        if table is None:
            raise BackupError(
                f"The backup has a table {entry['name']!r} that this version of Clearpath does "
                "not know: restore it with the version that wrote it. Nothing was changed."
            )
        unknown = sorted(set(entry["columns"]) - set(table.columns.keys()))
        if unknown:
            raise BackupError(
                f"The backup's table {entry['name']} has columns this version of Clearpath does "
                f"not know ({', '.join(map(str, unknown))}). Nothing was changed."
            )
    return header


def _restore(path: Path, header: dict, records, replace: bool) -> dict[str, int]:
    session = db.session
    connection = session.connection()
    tables = db.metadata.sorted_tables
    present = set(inspect(connection).get_table_names())
    missing = sorted(t.name for t in tables if t.name not in present)
    if missing:
        raise BackupError(f"The database has no table {', '.join(missing)}: run "
                          "`flask --app app db upgrade` first. Nothing was changed.")
    _lock(connection, tables)

    source, target = header.get("schema_revision"), _schema_revision(connection)
    if source and target and source != target:
        raise BackupError(
            f"The backup was taken at schema revision {source} and this database is at {target}. "
            f"Restore into an empty database at {source} (`flask --app app db upgrade {source}`), "
            "then upgrade it. Nothing was changed."
        )

    filled = {}
    for table in tables:
        count = session.execute(select(func.count()).select_from(table)).scalar_one()
        if count:
            filled[table.name] = count
    if filled and not replace:
        held = ", ".join(f"{name} {count:,}" for name, count in filled.items())
        raise BackupError(
            f"The database is not empty ({held}); a restore never mixes two datasets. "
            "Pass --replace to delete every row first, in the same transaction."
        )
    if replace:
        for table in reversed(tables):
            session.execute(table.delete())

    columns = {entry["name"]: entry["columns"] for entry in header["tables"]}
    counts = dict.fromkeys(columns, 0)
    known = db.metadata.tables
    pending: list[dict] = []
    current = None
    trailer = None

    def flush():
        if pending:
            session.execute(_insert_statement(known[current]), pending)
            pending.clear()

    for number, line in records:
        if line.get("end") is True:
            trailer = line
            break
        name, row = line.get("table"), line.get("row")
        if name not in columns or not isinstance(row, dict) or set(row) != set(columns[name]):
            raise BackupError(f"{path}, line {number}: not a row of a table in the header, "
                              "so the file is damaged. Nothing was changed.")
        if name != current:
            flush()
            current = name
            decoders = {column.name: _decoder(column) for column in known[name].columns}
        decoded = {}
        for key, value in row.items():
            try:
                decoded[key] = None if value is None else decoders[key](value)
            except (ValueError, TypeError, ArithmeticError) as error:
                raise BackupError(f"{path}, line {number}: {name}.{key}: {error}. "
                                  "Nothing was changed.") from error
        pending.append(decoded)
        counts[name] += 1
        if len(pending) >= BATCH_ROWS:
            flush()
    flush()

    if trailer is None:
        raise BackupError(f"{path} ends before its last line: the backup is truncated. "
                          "Nothing was changed.")
    if next(records, None) is not None:
        raise BackupError(f"{path} has lines after its end: the file is damaged. "
                          "Nothing was changed.")
    if trailer.get("counts") != counts:
        raise BackupError(f"{path} holds other row counts than its last line says: the file is "
                          "damaged. Nothing was changed.")
    _reset_sequences(connection, tables)
    return counts


def _lock(connection, tables) -> None:
    """Keep every other writer out until the restore commits."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(connection.dialect.identifier_preparer.format_table(t) for t in tables)
        connection.exec_driver_sql(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _reset_sequences(connection, tables) -> None:
    """Move each PostgreSQL serial past the restored ids, so new rows get fresh ones."""
    if connection.dialect.name != "postgresql":
        return  # SQLite gives max(rowid) + 1 by itself
    preparer = connection.dialect.identifier_preparer
    for table in tables:
        qualified = preparer.format_table(table)
        for column in table.primary_key.columns:
            if not isinstance(_base_type(column.type), Integer):
                continue
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": qualified, "column": column.name},
            ).scalar()
            if sequence is None:
                continue
            connection.execute(
                text(f"SELECT setval(:sequence, coalesce((SELECT max({preparer.quote(column.name)}) "
                     f"FROM {qualified}), 0) + 1, false)"),
                {"sequence": sequence},
            )
