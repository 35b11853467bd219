"""schemathesis against the platform's own OpenAPI document: a gate of the CI.

The platform runs under gunicorn with production settings on the PostgreSQL test database,
holding the data of ``tests/fuzz/world.py``. schemathesis's command line then tests every
operation of ``/api/schema/`` as three identities at once, each in a world of its own: the
owner of an organization with data, an outsider (the owner of another organization) and an
anonymous client. Its checks: no server error, and answers that conform to the schema
(status code, content type and body). Any finding fails the test with schemathesis's report,
where each failure comes with a curl command that reproduces it, and the tail of the
server's log.

Each identity runs in two passes: every operation but the deletes, then the deletes, so that
the owner keeps its data while the rest runs; the owner's deletes point at spare objects made
for them. Path parameters, the organization and foreign keys of request bodies, and the ids in
query parameters (``REFERENCES``) are drawn half of the time from the owner's real objects (for
the outsider and the anonymous client too: they must get nothing of them), the other half
generated. The outsider's and the anonymous client's runs must leave their world's owner's
data as they found it.

Bounded for CI by a fixed seed, a few examples per operation and one worker per schemathesis
process (two crash on Python 3.11.7; the three identities are three processes); login
throttles are raised for the server through their environment variables. The environment
changes the run:

- ``FUZZ_MAX_EXAMPLES`` (default 5): examples per operation in the fuzzing phase;
- ``FUZZ_SEED`` (default 1): the seed of every generated case;
- ``FUZZ_PHASES``: schemathesis's phases, the same for every identity (by default
  ``examples`` and ``fuzzing`` for all, and ``coverage`` with valid values for the owner and
  with invalid ones for the outsider: see ``FuzzSettings.phases_for``);
- ``FUZZ_REPORT_DIR``: keep schemathesis's reports there (JSON, and NDJSON with every request
  and answer, per identity and pass) and the server's log, instead of in the test's
  temporary folder.

A longer local run, on a PostgreSQL database of one's own::

    FUZZ_MAX_EXAMPLES=100 FUZZ_PHASES=examples,coverage,fuzzing \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fuzz REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m pytest tests/fuzz
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings

from tests.fuzz.conftest import FIGURES
from tests.fuzz.world import World, build_world
from tests.live import PROJECT_DIR, gunicorn, log_tail, postgres_env

PYTHON = sys.executable
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
IDENTITIES = ("owner", "outsider", "anonymous")
# Per pass, at most this long for schemathesis (a hung run fails instead of blocking CI).
PASS_TIMEOUT = 1800
# The login throttles and lockouts of core.throttling, out of the way of thousands of requests
# from one address (the fuzzer's 429s would hide the answers behind them).
THROTTLE_ENV = {
    "LOGIN_MAX_FAILURES": "1000000",
    "LOGIN_MAX_ACCOUNT_FAILURES": "1000000",
    "LOGIN_MAX_ADDRESS_FAILURES": "1000000",
    "THROTTLE_TOKEN_REFRESH_RATE": "1000000/min",
}
# Request body fields and query parameters drawn from the owner's objects half of the time
# (schemathesis's "location.name"), by world key.
REFERENCES = {
    **{
        f"body.{name}": key
        for name, key in {
            "organization": "organization",
            "battery": "battery",
            "parent": "battery",
            "device": "eis_device",
            "test": "eis_test",
            "linked_eis_test": "eis_test",
            "bms_test": "bms_test",
            "battery_type": "battery_type",
            "battery_model": "battery_model",
            "battery_model_version": "model_version",
            "default_dbc": "dbc_file",
            "organizationId": "organization",
            "typeId": "vs_type",
            "groupId": "vs_group",
        }.items()
    },
    **{
        f"query.{name}": key
        for name, key in {
            "organization": "organization",
            "project": "project",
            "battery": "battery",
            "device": "eis_device",
            "test": "eis_test",
            "bms_test": "bms_test",
            "productId": "vs_product",
            "componentId": "vs_component",
            "groupId": "vs_group",
        }.items()
    },
}
DRAW_PROBABILITY = 0.5

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.skipif(
        django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="the fuzzer runs on PostgreSQL: set DATABASE_URL=postgres://...",
    ),
]


@dataclass(frozen=True)
class FuzzSettings:
    max_examples: int
    seed: int
    phases: str | None
    report_dir: Path | None

    @classmethod
    def from_environment(cls) -> FuzzSettings:
        report_dir = os.environ.get("FUZZ_REPORT_DIR")
        return cls(
            max_examples=int(os.environ.get("FUZZ_MAX_EXAMPLES") or 5),
            seed=int(os.environ.get("FUZZ_SEED") or 1),
            phases=os.environ.get("FUZZ_PHASES") or None,
            report_dir=Path(report_dir) if report_dir else None,
        )

    def phases_for(self, identity: str) -> dict[str, str]:
        """schemathesis's phases for ``identity``, each with its generation mode (valid
        input, invalid input or both).

        ``FUZZ_PHASES`` gives every identity its phases with both modes. By default the
        coverage phase (for each parameter and body field in turn, its boundary values or
        every kind of wrong value, other methods, other content types: thousands of cases)
        is split between the two users: the owner sends the valid values, which reach the
        stored objects, and the outsider the wrong ones, which the API refuses before it
        looks for objects. Every identity runs the schema's examples and random cases."""
        if self.phases:
            return {phase.strip(): "all" for phase in self.phases.split(",")}
        phases = {"examples": "all", "fuzzing": "all"}
        coverage = {"owner": "positive", "outsider": "negative"}.get(identity)
        if coverage:
            phases["coverage"] = coverage
        return phases


@dataclass
class PassResult:
    name: str
    exit_code: int
    output: str
    report: dict

    @property
    def cases(self) -> int:
        return self.report.get("test_cases", {}).get("generated", 0)

    @property
    def seconds(self) -> float:
        return self.report.get("running_time", 0.0)

    @property
    def tested(self) -> int:
        return self.report.get("operations", {}).get("tested", 0)

    @property
    def findings(self) -> list:
        return [*self.report.get("failures", []), *self.report.get("errors", [])]

    @property
    def clean(self) -> bool:
        return self.exit_code == 0 and self.report.get("complete") and not self.findings


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """The static files as ``collectstatic`` leaves them for production (the site's error
    pages name their hashed CSS)."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        env={**os.environ, "DJANGO_STATIC_ROOT": str(root)},
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return root


@pytest.fixture
def report_dir(tmp_path) -> Path:
    """Where the reports and the server's log go: ``FUZZ_REPORT_DIR`` or the test's temporary
    folder."""
    directory = FuzzSettings.from_environment().report_dir or tmp_path / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def server(transactional_db, collected_static, report_dir) -> Iterator[tuple[str, Path]]:
    """gunicorn with production settings on the test database (data committed, thanks to
    ``transactional_db``) and Redis, a worker per identity: its base URL and its log file."""
    env = {
        **postgres_env(),
        "DJANGO_STATIC_ROOT": str(collected_static),
        "WEB_CONCURRENCY": str(len(IDENTITIES)),
        **THROTTLE_ENV,
    }
    log = report_dir / "server.log"
    with gunicorn(env, log) as live_server:
        yield live_server.url, log


def test_schemathesis_finds_no_server_error_and_no_schema_violation(server, report_dir, tmp_path):
    url, log = server
    fuzz = FuzzSettings.from_environment()
    answer = httpx.get(f"{url}/api/schema/?format=json", timeout=60)
    assert answer.status_code == 200, f"/api/schema/: {answer.status_code}\n{log_tail(log, 60)}"
    schema = answer.json()
    # A world per identity, so that the identities run at once and the outsider's and the
    # anonymous client's runs can be seen to leave their owner's data alone.
    worlds = {identity: build_world(f"fuzz-{identity}") for identity in IDENTITIES}
    before = {identity: world.fingerprint() for identity, world in worlds.items()}

    with ThreadPoolExecutor(len(IDENTITIES)) as pool:
        runs = {
            identity: pool.submit(
                run_identity,
                identity,
                worlds[identity],
                schema,
                fuzz,
                url=url,
                workdir=tmp_path / identity,
                report_dir=report_dir / identity,
            )
            for identity in IDENTITIES
        }
    results = {identity: run.result() for identity, run in runs.items()}

    problems = []
    for identity, passes in results.items():
        phases = ", ".join(f"{phase} ({mode})" for phase, mode in fuzz.phases_for(identity).items())
        operations = sum(result.tested for result in passes)
        cases = sum(result.cases for result in passes)
        findings = sum(len(result.findings) for result in passes)
        seconds = sum(result.seconds for result in passes)
        FIGURES.append(
            f"{identity:>9}: {operations} operations, {cases} cases ({phases}; "
            f"{fuzz.max_examples} random examples per operation, seed {fuzz.seed}), "
            f"{findings} failures, {seconds:.0f} s"
        )
        problems += [
            f"schemathesis as {identity}, {result.name}: exit code {result.exit_code}, "
            f"{len(result.findings)} failures\n{result.output[-20000:]}"
            for result in passes
            if not result.clean
        ]
        if operations != count_operations(schema):
            problems.append(f"{identity}: {operations} of {count_operations(schema)} tested")
        if identity != "owner" and worlds[identity].fingerprint() != before[identity]:
            problems.append(f"the {identity} changed the owner's data")
    assert not problems, "\n\n".join(problems) + f"\n--- server log ---\n{log_tail(log, 60)}"


def run_identity(
    identity: str,
    world: World,
    schema: dict,
    fuzz: FuzzSettings,
    *,
    url: str,
    workdir: Path,
    report_dir: Path,
) -> list[PassResult]:
    """Every operation but the deletes, then the deletes."""
    return [
        run_pass(
            name,
            arguments,
            config(world, schema, identity, fuzz, deletes=deletes),
            url=url,
            workdir=workdir / folder,
            report_dir=report_dir / folder,
        )
        for name, arguments, deletes, folder in (
            ("every operation but deletes", ["--exclude-method", "DELETE"], False, "all"),
            ("deletes", ["--include-method", "DELETE"], True, "deletes"),
        )
    ]


def run_pass(
    name: str, arguments: list[str], config_text: str, *, url: str, workdir: Path, report_dir: Path
) -> PassResult:
    """One run of schemathesis's command line, from a folder of its own (it keeps state in
    the working directory), with the JSON report read back."""
    workdir.mkdir(parents=True, exist_ok=True)
    report_dir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "schemathesis.toml"
    config_file.write_text(config_text)
    command = [
        PYTHON,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config_file),
        "--no-color",
        "run",
        f"{url}/api/schema/",
        "--checks",
        ",".join(CHECKS),
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(report_dir / "report.json"),
        "--report-ndjson-path",
        str(report_dir / "events.ndjson"),
        *arguments,
    ]
    completed = subprocess.run(
        command,
        cwd=workdir,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        timeout=PASS_TIMEOUT,
        check=False,
    )
    report_path = report_dir / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return PassResult(name, completed.returncode, completed.stdout + completed.stderr, report)


def config(world: World, schema: dict, identity: str, fuzz: FuzzSettings, *, deletes: bool) -> str:
    """schemathesis's configuration for one pass of one identity, as TOML.

    The owner's deletes get the ids of spare objects; every other operation with path
    parameters draws them half of the time from the owner's real objects."""
    lines = [
        f"seed = {fuzz.seed}",
        "workers = 1",
        f"phases.stateful.enabled = {_toml(False)}",
        "cache.enabled = false",
        # Hypothesis's timing check: a loaded CI machine is no finding.
        'suppress-health-check = ["too_slow"]',
        f"generation.max-examples = {fuzz.max_examples}",
        'generation.database = "none"',
    ]
    if identity in world.credentials:
        lines.append(f"headers = {{ Authorization = {_toml(world.credentials[identity])} }}")
    phases = fuzz.phases_for(identity)
    for phase in ("examples", "coverage", "fuzzing"):
        lines.append(f"phases.{phase}.enabled = {_toml(phase in phases)}")
        if phase in phases:
            lines.append(f"phases.{phase}.generation.mode = {_toml(phases[phase])}")

    lines.append("")
    for key, value in sorted(world.objects.items()):
        lines += [f"[dictionaries.{key}]", f"values = [{_toml(value)}]"]
    lines.append("[parameters]")
    for parameter, key in REFERENCES.items():
        lines.append(f"{_toml(parameter)} = {_draw(key)}")

    for path, methods in schema["paths"].items():
        for method in methods:
            if (method.upper() == "DELETE") != deletes or "{" not in path:
                continue
            try:
                if deletes and identity == "owner":
                    parameters = {f"path.{k}": _toml(v) for k, v in world.spare_ids(path).items()}
                else:
                    parameters = {f"path.{k}": _draw(v) for k, v in world.path_keys(path).items()}
            except KeyError:  # a path the world has no objects for: generated ids only
                continue
            inline = ", ".join(f"{_toml(k)} = {v}" for k, v in parameters.items())
            lines += [
                "",
                "[[operations]]",
                f"include-name = {_toml(f'{method.upper()} {path}')}",
                f"parameters = {{ {inline} }}",
            ]
    return "\n".join(lines) + "\n"


def count_operations(schema: dict) -> int:
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return sum(1 for item in schema["paths"].values() for method in item if method in methods)


def _draw(key: str) -> str:
    return f"{{ dictionary = {_toml(key)}, probability = {DRAW_PROBABILITY} }}"


def _toml(value) -> str:
    """A TOML literal: JSON's strings, numbers and booleans are TOML's."""
    return json.dumps(value)
