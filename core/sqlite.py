"""SQLite, the zero-configuration database: one connection per process kept open beside the
requests' own.

In WAL mode, when the last connection to a database closes, SQLite checkpoints the WAL into the
database file and syncs it to disk. Django opens and closes a connection per request
(``CONN_MAX_AGE = 0``; under ``runserver`` every request even runs in a thread of its own), so
without another connection every write request paid that checkpoint at its end: about 2 ms on
a disk whose sync takes that long. This connection, opened the first time the process connects
to a file database, stays idle and keeps the WAL open; SQLite then checkpoints as it goes
(every 1,000 pages, ``wal_autocheckpoint``) and once more when the process exits. Nothing
changes for PostgreSQL or for in-memory databases (the tests').
"""

from __future__ import annotations

import sqlite3
import threading

from django.db.backends.signals import connection_created
from django.dispatch import receiver

_lock = threading.Lock()
#: The kept connection of each database file (by path), for the life of the process.
_kept: dict[str, sqlite3.Connection] = {}


def _file_path(connection) -> str | None:
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    return str(connection.settings_dict["NAME"])


@receiver(connection_created)
def keep_one_connection_open(sender, connection, **kwargs) -> None:
    """Open the process's idle connection to ``connection``'s database file, once."""
    path = _file_path(connection)
    if path is None or path in _kept:
        return
    with _lock:
        if path not in _kept:
            kept = sqlite3.connect(path, check_same_thread=False)
            # Reading the schema once makes the connection a reader of the WAL-mode database.
            kept.execute("SELECT count(*) FROM sqlite_master").fetchone()
            _kept[path] = kept


def kept_connections() -> dict[str, sqlite3.Connection]:
    """The kept connections by database path (for tests and diagnostics)."""
    return dict(_kept)
