"""EIS analysis: one sweep's analysis, 1,000 tests analysed by two job workers, and reading
the stored analyses of 100 tests in one request beside a plain Django view.

    .venv/bin/python -m bench.bench_analysis [--tests 1000] [--workers 2] [--database ...]

Creates a fresh PostgreSQL database, migrates it, and stores ``--tests`` EIS tests, each a
42-frequency sweep (10 kHz .. 0.1 Hz) of the default circuit ``R0-p(R1,CPE1)-W1`` with 0.2 %
noise and parameters varied per test, through the bulk ingestion service. Then:

1. **one analysis**: in this process, the median time of ``analyse_sweep`` (Lin-KK test,
   circuit fit, DRT) over ``--repeat`` runs on one sweep, and of each step alone.
2. **workers**: an analysis job is started for every test (``eis_analysis_start``, as the
   API's POST does), then ``--workers`` ``manage.py jobs_worker`` processes run them all.
   Printed: tests/s from the first job's start to the last job's end (and from the workers'
   launch, their start-up included), failures, and the fitted R0 against the true one.
3. **reading**: under gunicorn (2 workers), ``GET /api/v2/eis/analyses/?limit=100`` (an
   organization member's API key: authentication, scoping, keyset pagination, the full
   results of each analysis) beside ``/bench/analyses-plain/?limit=100`` (``values()`` and
   ``JsonResponse``, nothing else): the median of sequential requests (the target: under
   100 ms) and, under wrk, the server's CPU per request.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import time
import warnings

import numpy as np

from bench import harness

DATABASE = "bench_analysis"
FREQUENCIES = np.logspace(4, -1, 42)
R0, R1, ALPHA, SIGMA, F_ARC = 0.020, 0.015, 0.85, 0.004, 50.0


def sweep(index: int) -> tuple[float, np.ndarray]:
    """The true R0 and the noisy impedance of test number ``index``."""
    from impedance.models.circuits import CustomCircuit

    from batterydb.analysis import DEFAULT_CIRCUIT

    rng = np.random.default_rng(index)
    r0, r1 = R0 * rng.uniform(0.8, 1.2), R1 * rng.uniform(0.8, 1.5)
    q = (1 / (2 * np.pi * F_ARC * rng.uniform(0.5, 2))) ** ALPHA / r1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = CustomCircuit(DEFAULT_CIRCUIT, initial_guess=[r0, r1, q, ALPHA, SIGMA]).predict(
            FREQUENCIES
        )
    noise = rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size)
    return r0, z + np.abs(z) * 0.002 * noise


def make_world(n_tests: int) -> dict:
    """An organization, a member with an API key, ``n_tests`` tests with their sweeps."""
    from batterydb.models import Battery, EISTest
    from batterydb.services.ingest import eis_data_ingest
    from core import services
    from core.models import Membership, Organization, User

    organization = Organization.objects.create(name="Bench")
    user = User.objects.create_user(username="bench", email="bench@example.com", password=None)
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.MEMBER)
    _, key = services.api_key_create(user=user, name="bench")
    battery = Battery.objects.create(organization=organization, battery_id="BENCH-1")
    tests = EISTest.objects.bulk_create(
        EISTest(organization=organization, battery=battery) for _ in range(n_tests)
    )
    true_r0 = {}
    for start in range(0, n_tests, 100):
        rows = []
        for test in tests[start : start + 100]:
            true_r0[test.pk], z = sweep(test.pk)
            for f, value in zip(FREQUENCIES, z, strict=True):
                rows.append((test.pk, float(f), "z_real", float(value.real)))
                rows.append((test.pk, float(f), "z_imag", float(value.imag)))
        eis_data_ingest(
            rows=rows,
            organization_of={t.pk: organization.pk for t in tests[start : start + 100]},
            replace=False,
            returning=False,
        )
    return {
        "organization": organization,
        "user": user,
        "tests": tests,
        "true_r0": true_r0,
        "headers": {"Authorization": f"User {key}"},
    }


def one_analysis(repeat: int) -> dict[str, float]:
    """Median milliseconds of the whole analysis and of each step on one sweep."""
    from batterydb.analysis import (
        DEFAULT_CIRCUIT,
        DEFAULT_DRT_LAMBDA,
        DEFAULT_KK_THRESHOLD,
        analyse_sweep,
        circuit_fit,
        drt_compute,
        kk_test,
    )

    _, z = sweep(1)
    steps = {
        "KK + fit + DRT": lambda: analyse_sweep(
            FREQUENCIES,
            z,
            circuit=DEFAULT_CIRCUIT,
            kk_threshold=DEFAULT_KK_THRESHOLD,
            drt_lambda=DEFAULT_DRT_LAMBDA,
        ),
        "Lin-KK": lambda: kk_test(FREQUENCIES, z, threshold=DEFAULT_KK_THRESHOLD),
        "circuit fit": lambda: circuit_fit(FREQUENCIES, z, circuit=DEFAULT_CIRCUIT),
        "DRT": lambda: drt_compute(FREQUENCIES, z, regularisation=DEFAULT_DRT_LAMBDA),
    }
    medians = {}
    for label, step in steps.items():
        step()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        medians[label] = statistics.median(times) * 1e3
    return medians


def run_workers(env: dict, world: dict, workers: int, timeout: float) -> dict:
    """Start an analysis of every test, run them with ``workers`` job workers."""
    from django.db.models import Max, Min

    from batterydb.models import EISAnalysis
    from batterydb.services.analysis import KIND, analysis_params, eis_analysis_start
    from core.jobs import Job

    started = time.perf_counter()
    for test in world["tests"]:
        eis_analysis_start(test=test, user=world["user"], params=analysis_params())
    start_seconds = time.perf_counter() - started
    n = len(world["tests"])
    jobs = Job.objects.filter(kind=KIND)
    launched = time.perf_counter()
    processes = [
        subprocess.Popen(
            [harness.PYTHON, "manage.py", "jobs_worker", "--poll", "0.2", "--worker-id", f"w{i}"],
            cwd=harness.PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for i in range(workers)
    ]
    try:
        while jobs.filter(status__in=["succeeded", "failed"]).count() < n:
            if time.perf_counter() - launched > timeout:
                raise harness.BenchError(f"the workers did not finish {n} analyses in {timeout} s")
            if any(process.poll() is not None for process in processes):
                raise harness.BenchError("a jobs worker exited")
            time.sleep(0.25)
        wall = time.perf_counter() - launched
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    span = jobs.aggregate(first=Min("started_at"), last=Max("finished_at"))
    busy = (span["last"] - span["first"]).total_seconds()
    fitted = dict(EISAnalysis.objects.values_list("test_id", "ohmic_resistance"))
    errors = [
        abs(fitted[t] - r0) / r0 for t, r0 in world["true_r0"].items() if fitted.get(t) is not None
    ]
    return {
        "start_seconds": start_seconds,
        "wall": wall,
        "busy": busy,
        "tests": n,
        "failed": jobs.filter(status="failed").count(),
        "workers_seen": jobs.values("worker").distinct().count(),
        "r0_error_median": statistics.median(errors) if errors else float("nan"),
        "r0_error_max": max(errors) if errors else float("nan"),
    }


def timed_gets(server, path: str, headers: dict | None, n: int) -> tuple[float, int]:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    times, size = [], 0
    for index in range(n + 2):
        start = time.perf_counter()
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise harness.BenchError(f"GET {path}: {response.status} {body[:300]!r}")
        if index >= 2:  # two warm-up requests
            times.append(time.perf_counter() - start)
        size = len(body)
    conn.close()
    return statistics.median(times) * 1e3, size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=20, help="runs of the one-sweep timing")
    parser.add_argument("--reads", type=int, default=30, help="sequential GETs of 100 analyses")
    parser.add_argument("--duration", type=float, default=5, help="seconds of each wrk run")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    database_url = harness.fresh_database(args.database)
    env = harness.bench_env(
        database_url,
        settings_module="bench.analysis_settings",
        extra={"JOBS_WORKER": "external"},
    )
    harness.migrate(env)
    harness.setup_django(env)
    with harness.timed(f"{args.tests} tests of 42 frequencies stored"):
        world = make_world(args.tests)

    medians = one_analysis(args.repeat)
    harness.print_table(
        ["one 42-frequency sweep", "median ms"], [[k, f"{v:.1f}"] for k, v in medians.items()]
    )

    workers = run_workers(env, world, args.workers, args.timeout)
    harness.print_table(
        ["workers", "tests", "failed", "tests/s (jobs)", "tests/s (launch)", "R0 error"],
        [
            [
                str(args.workers),
                str(workers["tests"]),
                str(workers["failed"]),
                f"{workers['tests'] / workers['busy']:.1f}",
                f"{workers['tests'] / workers['wall']:.1f}",
                f"{workers['r0_error_median']:.2%} (max {workers['r0_error_max']:.2%})",
            ]
        ],
    )
    print(f"starting {args.tests} analyses (202 path, no HTTP): {workers['start_seconds']:.1f} s")

    harness.close_django_connections()
    api = "/api/v2/eis/analyses/?limit=100"
    plain = "/bench/analyses-plain/?limit=100"
    headers = world["headers"]
    with harness.gunicorn_server(env, workers=2) as server:
        api_ms, api_size = timed_gets(server, api, headers, args.reads)
        plain_ms, plain_size = timed_gets(server, plain, None, args.reads)
        loaded = [
            harness.measure(
                server,
                api,
                label="API",
                headers=headers,
                duration=args.duration,
                connections=4,
                database=args.database,
            ),
            harness.measure(
                server,
                plain,
                label="plain Django",
                duration=args.duration,
                connections=4,
                database=args.database,
            ),
        ]
    harness.print_table(
        ["100 analyses", "median ms", "KB", "req/s (wrk)", "app CPU ms/req", "db CPU ms/req"],
        [
            [
                m.label,
                f"{ms:.1f}",
                f"{size / 1024:.0f}",
                f"{m.rps:.0f}",
                f"{m.app_cpu_ms_per_request:.1f}",
                f"{m.db_cpu_ms_per_request or 0:.1f}",
            ]
            for m, ms, size in zip(loaded, (api_ms, plain_ms), (api_size, plain_size), strict=True)
        ],
    )
    figures = {
        "one_analysis_ms": medians,
        "workers": {k: v for k, v in workers.items()},
        "read_100": {
            "api_ms": api_ms,
            "plain_ms": plain_ms,
            "api_kb": api_size / 1024,
            "loaded": [m.as_dict() for m in loaded],
        },
    }
    if args.json:
        harness.write_json(args.json, figures)
    harness.drop_database(args.database)


if __name__ == "__main__":
    main()
