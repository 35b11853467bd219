"""SQLite connections reused across requests (core.sqlite_backend): Django opens and closes a
connection per request, the SQLite connection behind it (its schema already read) serves the
next one, in the state a new connection starts in."""

from __future__ import annotations

import json
from pathlib import Path

from tests.live import django_run, server_env

SCRIPT = """
import json, os
from django.db import connection, transaction
from django.db.utils import OperationalError
from core.sqlite_backend.base import idle_connections

found = {}

def raw():
    connection.ensure_connection()
    return connection.connection

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    cursor.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))"
    )
first = raw()
connection.close()
found["idle_after_close"] = idle_connections()
second = raw()
found["reused"] = second is first
found["idle_while_open"] = idle_connections()

# A connection left with foreign keys off gets them back when it is handed out again.
with connection.cursor() as cursor:
    cursor.execute("PRAGMA foreign_keys = OFF")
connection.close()
with connection.cursor() as cursor:
    found["reused_again"] = connection.connection is first
    found["foreign_keys"] = cursor.execute("PRAGMA foreign_keys").fetchone()[0]
    found["journal_mode"] = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    try:
        cursor.execute("INSERT INTO child (parent_id) VALUES (99)")
        found["orphan"] = "written"
    except Exception as error:
        found["orphan"] = type(error).__name__
connection.close()

# Closed inside an atomic block (its transaction open): closed for real, not handed out.
inside = None
try:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO parent (id) VALUES (1)")
        inside = connection.connection
        connection.close()
except Exception:
    pass
connection.close()
found["atomic_reused"] = raw() is inside
with connection.cursor() as cursor:
    found["atomic_rows"] = cursor.execute("SELECT count(*) FROM parent").fetchone()[0]
connection.close()

# A forked child opens its own connection.
parent_connection = raw()
connection.close()
reader, writer = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(reader)
    child = raw()
    os.write(writer, json.dumps([child is parent_connection, idle_connections()]).encode())
    os._exit(0)
os.close(writer)
os.waitpid(pid, 0)
found["child_reused"], found["child_idle"] = json.loads(os.read(reader, 100))
print(json.dumps(found))
"""


def test_a_closed_connection_serves_the_next_request_in_a_new_connections_state(
    tmp_path: Path,
):
    found = json.loads(
        django_run(server_env(SQLITE_PATH=str(tmp_path / "db.sqlite3")), SCRIPT).strip()
    )
    assert found == {
        "idle_after_close": 1,
        "reused": True,
        "idle_while_open": 0,
        "reused_again": True,
        "foreign_keys": 1,
        "journal_mode": "wal",
        "orphan": "IntegrityError",
        "atomic_reused": False,
        "atomic_rows": 0,
        "child_reused": False,
        "child_idle": 0,
    }
