"""SQLite's kept connection (core.sqlite): a request's connection closing is not the last one,
so it does not checkpoint the WAL (and sync the disk) at the end of every write request."""

from __future__ import annotations

import os
from pathlib import Path

from tests.live import django_run, server_env

SCRIPT = """
import os, sqlite3
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE written (value INTEGER)")
    cursor.execute("INSERT INTO written VALUES (42)")
connection.close()
path = os.environ["SQLITE_PATH"]
from core.sqlite import kept_connections  # after the fact: the app registered it, not this
wal = path + "-wal"
print("kept", list(kept_connections()) == [path])
print("wal", os.path.exists(wal) and os.path.getsize(wal) > 0)
print("read", sqlite3.connect(path).execute("SELECT value FROM written").fetchone()[0])
"""


def run(tmp_path: Path) -> dict[str, str]:
    """The script's findings in a process of its own on a new SQLite file (no migration)."""
    out = django_run(server_env(SQLITE_PATH=str(tmp_path / "db.sqlite3")), SCRIPT)
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_a_closed_request_connection_leaves_the_wal_to_the_kept_one(tmp_path):
    found = run(tmp_path)
    assert found == {"kept": "True", "wal": "True", "read": "42"}
    assert os.path.exists(tmp_path / "db.sqlite3")
