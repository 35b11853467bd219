"""The ``fuzz`` marker, and the fuzzer's figures at the end of the session's report."""

from __future__ import annotations

FIGURES: list[str] = []


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fuzz: schemathesis against a live server on PostgreSQL (tests/fuzz/test_schemathesis.py)",
    )


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("schemathesis")
        for line in FIGURES:
            terminalreporter.write_line(line)
