"""Django's SQLite backend whose connections to a database file are pooled in the process.

A new SQLite connection reads the whole schema before its first statement: about 0.75 ms for
the platform's 250-odd tables and indexes, a quarter of a small API request. Django still
opens and closes its connection in every request (``CONN_MAX_AGE = 0``, and ``runserver``
runs each request in a new thread), but closing here hands the SQLite connection, schema
read, to the next request that opens one in this process, as psycopg's pool does for
PostgreSQL. A reused connection gets the same ``PRAGMA``\\s and ``init_command`` as a new one
and starts with no transaction; one closed in a transaction or an atomic block, or after a
database error, is closed for real. At most ``MAX_IDLE`` connections per database wait;
in-memory databases (the tests') are never pooled, and a forked child never takes its
parent's connections.
"""

from __future__ import annotations

import os
import threading

from django.db.backends.sqlite3 import base

#: Idle connections kept per database file and process.
MAX_IDLE = 4

_lock = threading.Lock()
#: Idle connections by ``(process id, connection parameters)``.
_idle: dict[tuple, list] = {}


class DatabaseWrapper(base.DatabaseWrapper):
    def _pool_key(self, conn_params: dict) -> tuple | None:
        if self.is_in_memory_db():
            return None
        return (
            os.getpid(),
            tuple(sorted((name, repr(value)) for name, value in conn_params.items())),
            tuple(self.init_commands),
        )

    def get_new_connection(self, conn_params):
        key = self._pool_key(conn_params)
        conn = None
        if key is not None:
            with _lock:
                idle = _idle.get(key)
                if idle:
                    conn = idle.pop()
        if conn is None:
            conn = super().get_new_connection(conn_params)
        else:
            # The state a new connection starts with (statements of the superclass).
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA legacy_alter_table = OFF")
            for init_command in self.init_commands:
                if init_command := init_command.strip():
                    conn.execute(init_command)
        self._pool_key_of_connection = key
        return conn

    def _close(self):
        conn, key = self.connection, getattr(self, "_pool_key_of_connection", None)
        reusable = (
            conn is not None
            and key is not None
            and key[0] == os.getpid()
            and not self.in_atomic_block
            and not self.errors_occurred
            and not conn.in_transaction
        )
        if reusable:
            with _lock:
                idle = _idle.setdefault(key, [])
                if len(idle) < MAX_IDLE:
                    idle.append(conn)
                    return
        super()._close()


def idle_connections() -> int:
    """How many connections of this process wait in the pool (for tests and diagnostics)."""
    with _lock:
        return sum(len(idle) for key, idle in _idle.items() if key[0] == os.getpid())
