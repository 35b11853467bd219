"""Bounded runs: a function of bytes in a child process with memory, CPU, time and output
limits. The targets are the functions below, which the child imports from this module (so
this module imports nothing that needs Django set up)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from core.bounded import ChildFailed, InputRejected, LimitExceeded, run_bounded

LIMITS = {"memory_bytes": 256 * 2**20, "cpu_seconds": 10, "timeout_seconds": 60}
HERE = __name__


# --- Targets, run in the child --------------------------------------------------------------------


def count_bytes(data: bytes, *, byte: str) -> dict:
    return {"length": len(data), "count": data.count(byte.encode())}


def refuse(data: bytes) -> None:
    raise ValueError("Line 3 is not a record.")


def break_down(data: bytes) -> None:
    raise KeyError("missing")


def allocate(data: bytes, *, megabytes: int) -> int:
    return len(bytearray(megabytes * 2**20))


def spin(data: bytes) -> None:
    while True:
        pass


def sleep(data: bytes) -> None:
    time.sleep(600)


def shout(data: bytes, *, megabytes: int) -> str:
    return "x" * (megabytes * 2**20)


def environment(data: bytes) -> list[str]:
    return sorted(os.environ)


def crash(data: bytes) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


# --- Tests ----------------------------------------------------------------------------------------


def test_the_function_gets_the_bytes_and_options_and_its_value_comes_back():
    result = run_bounded(f"{HERE}:count_bytes", b"a,b,c\n" * 1000, options={"byte": ","}, **LIMITS)
    assert result.value == {"length": 6000, "count": 2000}
    assert 0 < result.peak_memory_bytes < LIMITS["memory_bytes"]
    assert result.cpu_seconds >= 0


def test_the_peak_memory_reported_is_the_childs_own_not_the_servers():
    ballast = b"x" * (300 * 2**20)  # the server process holding more than the child will use
    result = run_bounded(f"{HERE}:count_bytes", b"", options={"byte": ","}, **LIMITS)
    assert len(ballast) and result.peak_memory_bytes < 100 * 2**20


def test_a_value_error_refuses_the_input_with_its_message():
    with pytest.raises(InputRejected, match=r"^Line 3 is not a record\.$"):
        run_bounded(f"{HERE}:refuse", b"", **LIMITS)


def test_another_exception_is_a_failure_naming_it():
    with pytest.raises(ChildFailed, match="KeyError: 'missing'"):
        run_bounded(f"{HERE}:break_down", b"", **LIMITS)


def test_memory_over_the_limit_stops_the_child_not_the_server():
    with pytest.raises(LimitExceeded, match="more memory than the limit of 256 MB") as caught:
        run_bounded(f"{HERE}:allocate", b"", options={"megabytes": 1024}, **LIMITS)
    assert caught.value.limit == "memory"
    small = run_bounded(f"{HERE}:allocate", b"", options={"megabytes": 16}, **LIMITS)
    assert small.value == 16 * 2**20


def test_cpu_over_the_limit_stops_the_child():
    limits = {**LIMITS, "cpu_seconds": 1}
    with pytest.raises(LimitExceeded, match="more CPU time than the limit of 1 seconds") as caught:
        run_bounded(f"{HERE}:spin", b"", **limits)
    assert caught.value.limit == "cpu"


def test_a_child_that_waits_is_killed_at_the_timeout():
    limits = {**LIMITS, "timeout_seconds": 0.5}
    with pytest.raises(LimitExceeded, match=r"longer than the limit of 0\.5 seconds") as caught:
        run_bounded(f"{HERE}:sleep", b"", **limits)
    assert caught.value.limit == "time"


def test_output_over_the_limit_is_refused():
    with pytest.raises(LimitExceeded) as caught:
        run_bounded(
            f"{HERE}:shout", b"", options={"megabytes": 2}, max_output_bytes=2**20, **LIMITS
        )
    assert caught.value.limit == "output"


def test_the_child_inherits_no_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "not-for-parsers")
    monkeypatch.setenv("DATABASE_URL", "postgres://user:secret@db/name")
    names = run_bounded(f"{HERE}:environment", b"", **LIMITS).value
    assert "DJANGO_SECRET_KEY" not in names and "DATABASE_URL" not in names


def test_a_crash_is_a_failure_naming_the_signal():
    with pytest.raises(ChildFailed, match="SIGSEGV"):
        run_bounded(f"{HERE}:crash", b"", **LIMITS)


def test_an_unknown_target_is_a_failure():
    with pytest.raises(ChildFailed, match="ModuleNotFoundError"):
        run_bounded("no_such_module:parse", b"", **LIMITS)
