"""The DMLF guide's two calls against two checkouts of the project, interleaved call by call.

    git worktree add --detach /tmp/before <commit>
    .venv/bin/python -m bench.compare_dmlf /tmp/before            # this checkout is "after"
    .venv/bin/python -m bench.compare_dmlf /tmp/before --calls 500

Each checkout runs Django's own ``runserver`` (WSGI, threaded; as ``bench_dmlf`` (a)) on a
SQLite file of its own, migrated and given the same world. The client then alternates
between them, a new connection per call as the guide's client makes them: ``GET
institutes/`` and a sample ``POST`` with the guide's ``sample_info`` and a small ZIP. Both
servers so share whatever else the machine is doing at each moment, which makes the
comparison fair on a shared machine where a single run's figures are not. Prints the median
and p90 milliseconds and each server's CPU per call (its process tree, from /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import harness
from bench.bench_dmlf import (
    GUIDE_SAMPLE_INFO,
    WORLD,
    FreshConnections,
    guide_sample_form,
    login,
    small_zip,
    sqlite_env,
)

WSGI_SETTINGS = (
    "from core.settings import *  # noqa: F403\n"
    "INSTALLED_APPS = [app for app in INSTALLED_APPS if app != 'daphne']  # noqa: F405\n"
)


def start_server(label: str, tree: Path, tmp: Path) -> harness.Server:
    """Django's runserver of the checkout ``tree`` on a migrated SQLite file in ``tmp``."""
    tmp.mkdir()
    (tmp / "wsgi_runserver_settings.py").write_text(WSGI_SETTINGS)
    env = sqlite_env(tmp, settings_module="wsgi_runserver_settings")
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tmp)])
    for args in (("migrate", "--noinput"), ("shell", "-c", WORLD)):
        harness.manage(env, *args)
    port = harness.free_port()
    argv = [
        harness.PYTHON,
        str(tree / "manage.py"),
        "runserver",
        f"{harness.HOST}:{port}",
        "--noreload",
    ]
    return harness.Server(label, argv, env, port).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the other checkout")
    parser.add_argument("--calls", type=int, default=300, help="calls of each kind per server")
    args = parser.parse_args(argv)
    trees = {"before": args.before.resolve(), "after": harness.PROJECT_DIR}

    archive, info = small_zip(), json.dumps(GUIDE_SAMPLE_INFO)
    times = {(label, call): [] for label in trees for call in ("GET", "POST")}
    cpu = dict.fromkeys(times, 0.0)
    servers: dict[str, harness.Server] = {}
    with tempfile.TemporaryDirectory(prefix="compare-dmlf-") as directory:
        try:
            for label, tree in trees.items():
                servers[label] = start_server(label, tree, Path(directory) / label)
            sessions = {
                label: FreshConnections(login(server.base_url)) for label, server in servers.items()
            }

            def timed(label, call, index, send):
                server = servers[label]
                start_cpu, start = server.cpu_seconds(), time.perf_counter()
                response = send(sessions[label], server.base_url)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code in (200, 201), response.text
                if index >= 0:  # the first five are not measured
                    times[(label, call)].append(elapsed)
                    cpu[(label, call)] += server.cpu_seconds() - start_cpu

            for index in range(-5, args.calls):
                second = index + 100
                data, files = guide_sample_form(second, info, archive)
                for label in trees:
                    timed(
                        label,
                        "GET",
                        index,
                        lambda session, base: session.get(f"{base}/dmlf/institutes/", timeout=30),
                    )
                    timed(
                        label,
                        "POST",
                        index,
                        lambda session, base, data=data, files=files: session.post(
                            f"{base}/dmlf/samples/", data=data, files=files, timeout=30
                        ),
                    )
        finally:
            for server in servers.values():
                server.stop()

    rows = []
    for (label, call), values in times.items():
        ordered = sorted(values)
        rows.append(
            [
                label,
                "GET institutes/" if call == "GET" else "POST samples/",
                len(ordered),
                f"{statistics.median(ordered):.2f}",
                f"{harness.percentile(ordered, 90):.2f}",
                f"{cpu[(label, call)] * 1000 / len(ordered):.2f}",
            ]
        )
    harness.print_table(
        ["checkout", "call", "calls", "median ms", "p90 ms", "server CPU ms"],
        rows,
        title="Django runserver on SQLite, a new connection per call, the checkouts interleaved "
        "(original: 2.7 / 9.7 ms median)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
