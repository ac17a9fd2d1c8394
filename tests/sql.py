"""What SQL a piece of code runs, for tests that assert how many statements or which kinds."""

from sqlalchemy import event

from webapp.extensions import db


def with_statements(call):
    """`call()`'s result and the SQL statements it ran, in order."""
    statements = []
    seen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        return call(), statements
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def verbs(statements) -> list[str]:
    """Each statement's first word: SELECT, INSERT, …"""
    return [statement.split(None, 1)[0].upper() for statement in statements]
