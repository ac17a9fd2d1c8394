"""Reads that tolerate seconds of lag, from a PostgreSQL read replica when one is configured.

Set DATABASE_REPLICA_URL and the views marked `@from_replica` (the feed and the dashboard, which
only read) run their queries there; everything else, and every write anywhere (a flush, such as
the feed export's audit event), goes to the primary. The signed-in user is loaded before the
view runs, so from the primary: a user changed a moment ago is never read stale. Without a
replica nothing changes.
"""

from functools import wraps

from flask import Flask
from flask_sqlalchemy.session import Session

REPLICA = "replica"
READS_FROM_REPLICA = "clearpath_reads_from_replica"


class RoutingSession(Session):
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and self.info.get(READS_FROM_REPLICA) and not self._flushing
                and REPLICA in self._db.engines):
            return self._db.engines[REPLICA]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def from_replica(view):
    """Run the view's reads on the replica (this request's session only)."""
    from .extensions import db

    @wraps(view)
    def wrapped(*args, **kwargs):
        db.session.info[READS_FROM_REPLICA] = True
        return view(*args, **kwargs)

    return wrapped


def init_app(app: Flask) -> None:
    """After db.init_app: the replica holds the primary's tables, not tables of its own."""
    from .extensions import db

    # Flask-SQLAlchemy gives every bind an (empty) metadata of its own, which create_all and
    # drop_all would then look for in every app, replica or not.
    db.metadatas.pop(REPLICA, None)

    @app.teardown_request
    def _back_to_the_primary(exc=None) -> None:
        # After the response (a streamed export included): the next request reads the primary,
        # even where requests share a session (an app context pushed around several).
        db.session.info.pop(READS_FROM_REPLICA, None)


def binds(replica_url: str, options: dict) -> dict:
    """SQLALCHEMY_BINDS for the replica, with the primary's pool settings."""
    return {REPLICA: {"url": replica_url, **options}}
