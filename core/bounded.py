"""Run a parser of untrusted bytes in a child process with memory, CPU and time limits.

Parsers of uploaded files (DBC files today; instrument files and CAN logs later) can take
far more memory and time than the file's size suggests. ``run_bounded()`` runs one in a
fresh Python process that first limits itself (``RLIMIT_AS`` for memory, ``RLIMIT_CPU`` for
CPU time, ``RLIMIT_FSIZE`` for its output, no core dumps), then reads the bytes from stdin,
calls the function and writes its JSON result back; the parent waits at most a wall-clock
timeout and kills it past that. Whatever the input does, the server process only pays the
bytes in and the (bounded) JSON out, and the request gets a clear ``BoundedError``.

The function is named ``"package.module:function"``; it takes the bytes and keyword options
(JSON values) and returns a JSON value, or raises ``ValueError`` whose message says what is
wrong with the input. Its module must import without Django being set up (the child starts
no Django: it gets no settings, no environment and no open connections), and so must this
module, which is the child's program.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

logger = logging.getLogger(__name__)

_EXIT_REJECTED = 3  # the function raised ValueError: the input is bad
_EXIT_MEMORY = 4  # MemoryError: the memory limit was hit
_EXIT_FAILED = 5  # any other exception in the function


class BoundedError(Exception):
    """The bounded run gave no result; the message says why, for the client."""


class InputRejected(BoundedError):
    """The function refused the input (it raised ``ValueError``)."""


class LimitExceeded(BoundedError):
    """The run hit a limit: ``limit`` is ``"memory"``, ``"cpu"``, ``"time"`` or ``"output"``."""

    def __init__(self, limit: str, message: str):
        super().__init__(message)
        self.limit = limit


class ChildFailed(BoundedError):
    """The function failed otherwise (an exception other than ``ValueError``, or a crash)."""


@dataclass(frozen=True)
class BoundedResult:
    """The function's JSON value, and what the child used: peak resident memory and CPU."""

    value: Any
    peak_memory_bytes: int
    cpu_seconds: float


def run_bounded(
    target: str,
    data: bytes,
    *,
    options: dict[str, Any] | None = None,
    memory_bytes: int,
    cpu_seconds: int,
    timeout_seconds: float,
    max_output_bytes: int = 1024 * 1024,
) -> BoundedResult:
    """Run ``target`` (``"module:function"``) on ``data`` in a limited child process.

    ``memory_bytes`` bounds the child's address space (the interpreter, about 40 MB, counts
    too), ``cpu_seconds`` its CPU time, ``timeout_seconds`` the wall-clock time (a child
    blocked or starved of CPU) and ``max_output_bytes`` the JSON it writes back. Raises
    ``InputRejected``, ``LimitExceeded`` or ``ChildFailed``.
    """
    limits = {"memory": memory_bytes, "cpu": cpu_seconds, "output": max_output_bytes}
    command = [
        sys.executable,
        "-I",  # no PYTHON* variables, no user site-packages, no current directory on the path
        __file__,
        target,
        json.dumps(limits),
        json.dumps(options or {}),
    ]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            cwd=PROJECT_ROOT,
            env={"PATH": os.defpath, "LC_ALL": "C.UTF-8"},
            start_new_session=True,
        )
        try:
            child.communicate(data, timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise LimitExceeded(
                "time", f"Parsing took longer than the limit of {timeout_seconds:g} seconds."
            ) from None
        except BaseException:
            child.kill()
            child.wait()
            raise
        stdout.seek(0)
        output = stdout.read(max_output_bytes + 1)
        stderr.seek(0)
        errors = stderr.read(4000).decode("utf-8", "replace").strip()
    try:
        return _result(child.returncode, output, errors, limits)
    except ChildFailed as exc:
        logger.warning("Bounded run of %s failed: %s", target, exc)
        raise


def _result(returncode: int, output: bytes, errors: str, limits: dict[str, int]) -> BoundedResult:
    try:
        envelope = json.loads(output) if output else {}
    except ValueError:
        envelope = {}
    if returncode == 0 and "value" in envelope:
        return BoundedResult(
            envelope["value"], envelope["peak_memory_bytes"], envelope["cpu_seconds"]
        )
    if returncode == _EXIT_REJECTED:
        raise InputRejected(envelope.get("error") or "The input was refused.")
    if returncode == _EXIT_MEMORY:
        raise LimitExceeded(
            "memory",
            f"Parsing needed more memory than the limit of {limits['memory'] // 2**20} MB.",
        )
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise LimitExceeded(
            "cpu", f"Parsing needed more CPU time than the limit of {limits['cpu']} seconds."
        )
    if len(output) > limits["output"] or "File too large" in errors:
        raise LimitExceeded("output", "The parser's result is larger than its limit.")
    if returncode == _EXIT_FAILED:
        raise ChildFailed(envelope.get("error") or "The parser failed.")
    reason = f"signal {signal.Signals(-returncode).name}" if returncode < 0 else returncode
    raise ChildFailed(f"The parser stopped unexpectedly ({reason}). {errors[-300:]}".strip())


# --- The child ----------------------------------------------------------------------------------


def _limit_self(limits: dict[str, int]) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    # SIGXCPU at the soft limit ends the process; the hard limit (SIGKILL) is a backstop.
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu"], limits["cpu"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["output"], limits["output"]))


def _peak_memory_bytes(usage) -> int:
    # Linux's ru_maxrss keeps the high-water mark of the process before exec, i.e. of the
    # server that forked it; the memory map's own, VmHWM, starts afresh with the program.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return usage.ru_maxrss * 1024


def _write(envelope: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(envelope, separators=(",", ":")))
    sys.stdout.flush()


def _child_main(target: str, limits_json: str, options_json: str) -> int:
    _limit_self(json.loads(limits_json))
    try:
        module_name, _, function_name = target.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        data = sys.stdin.buffer.read()
        value = function(data, **json.loads(options_json))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _write(
            {
                "value": value,
                "peak_memory_bytes": _peak_memory_bytes(usage),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            }
        )
        return 0
    except MemoryError:
        return _EXIT_MEMORY
    except ValueError as exc:
        _write({"error": str(exc)})
        return _EXIT_REJECTED
    except Exception as exc:
        _write({"error": f"{type(exc).__name__}: {exc}"})
        return _EXIT_FAILED


if __name__ == "__main__":
    sys.path.insert(0, str(PROJECT_ROOT))
    sys.exit(_child_main(*sys.argv[1:4]))
