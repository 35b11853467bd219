"""CPU and memory accounting from /proc: server process trees, PostgreSQL backends, machine."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _read_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children) from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / _CLOCK_TICKS


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def process_tree_cpu(root_pid: int) -> float:
    """CPU seconds used so far by ``root_pid`` and all its descendants."""
    stats = {pid: stat for pid in _all_pids() if (stat := _read_stat(pid)) is not None}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        if pid in stats:
            total += stats[pid][1]
        stack.extend(children.get(pid, []))
    return total


def process_tree_rss_mb(root_pid: int) -> float:
    """Resident memory of ``root_pid`` and its descendants, in MiB (shared pages counted in
    each process, so an upper bound)."""
    page = os.sysconf("SC_PAGE_SIZE")
    parents = {pid: stat[0] for pid in _all_pids() if (stat := _read_stat(pid)) is not None}
    tree, changed = {root_pid}, True
    while changed:
        new = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= new
        changed = bool(new)
    total = 0
    for pid in tree:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
    return total / 2**20


_BACKEND = re.compile(r"postgres: (?:\S+: )?(\S+) (\S+) ")


def database_backends_cpu(database: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to ``database``.

    Backends show ``postgres: [<cluster>: ]<user> <database> <client> <state>`` as their
    command line."""
    total = 0.0
    for pid in _all_pids():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        match = _BACKEND.match(cmdline)
        if match and match.group(2) == database:
            stat = _read_stat(pid)
            if stat is not None:
                total += stat[1]
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which is already counted in user
    return (total - idle) / _CLOCK_TICKS, total / _CLOCK_TICKS
