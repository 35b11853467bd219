"""Constants and small helpers shared by the harness: ports, HTTP, tables, JSON."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

PYTHON = sys.executable

HOST = "127.0.0.1"

#: Where to create benchmark databases (a maintenance database of the PostgreSQL server).
DEFAULT_POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)

DEFAULT_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

CPU_COUNT = os.cpu_count() or 1


class BenchError(RuntimeError):
    """A benchmark could not run or produced figures that cannot be trusted."""


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_get(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 10
) -> tuple[int, bytes]:
    """(status, body) of a GET; 3xx/4xx/5xx are returned, never followed or raised."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None
) -> str:
    """Print (and return) a plain-text table, numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(row):
            numeric = i > 0 and re.fullmatch(r"[-+]?[\d.,]+%?|n/a|—", cell or "—") is not None
            out.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    text_lines = []
    if title:
        text_lines += [title, "=" * len(title)]
    text_lines += [line(cells[0]), "  ".join("-" * w for w in widths)]
    text_lines += [line(row) for row in cells[1:]]
    text = "\n".join(text_lines)
    print(text, flush=True)
    return text


def write_json(path: str | Path, data: object) -> None:
    """Write results as JSON (e.g. under ``bench/results/``, which git ignores)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    """Print how long a block took (setup steps of a run)."""
    start = time.monotonic()
    yield
    print(f"  {label}: {time.monotonic() - start:.1f}s", flush=True)
