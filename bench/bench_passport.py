"""The passport API under load, beside a plain Django reference, on 100,000 full passports.

    .venv/bin/python -m bench.bench_passport [--passports 100000] [--duration 10]

Creates a fresh PostgreSQL database (``bench_passport``), migrates it, makes an organization
with a profile and its owner with an API key, and loads ``--passports`` fully filled
passports (the demo's complete electric vehicle passport, ``passport.demo.EV``, each with its
own id): every other one belongs to the owner's organization, the rest to a second one. They
are built by ``passport.services.passport_build`` (every column the API derives from the
document) and inserted in batches, without their first version in the history (nothing here
reads it). Then gunicorn (production settings, sync workers) serves the API and the reference
views of ``bench.passport_urls``, and wrk measures, side by side in one run:

(a) ``GET batteryPass/{id}`` and (b) ``GET batteryPass/{id}/electrochemicalProperties`` of one
    passport of the owner's organization, as its owner (API key: every point) and anonymously
    (point 1), against the plain view (``bench.views.passport_plain``): the same credential
    check and one SELECT of the row's document (or of the property object in it) answered as
    JSON. Requests/s with ``--connections`` (16), median and p99 latency, CPU per request;
    the target is 70 % of the plain view's requests/s;
(c) ``GET batteryPass?limit=1000``, the page at the cap: anonymously (every passport public),
    as the owner over their organization's passports (``&organization=``: every passport
    whole) and as the owner over everything (half whole, half public, and the grants query).
    Median and p99 latency with one connection (the page alone) and with as many connections
    as workers (every worker busy), and requests/s; the target is a median under 150 ms.

Every figure of a row comes from the same run; the machine may be shared ("other load").
"""

from __future__ import annotations

import argparse
import copy
import sys
from urllib.parse import urlsplit, urlunsplit

from bench import harness

DATABASE = "bench_passport"
SECTION = "electrochemicalProperties"
LIST_LIMIT = 1000
BATCH = 1000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passports", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for (a), (b)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--repeat", type=int, default=1, help="keep the fastest of N runs")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database as it is")
    parser.add_argument("--postgres-url", default=harness.DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", help="write the figures to this file")
    return parser.parse_args(argv)


# --- data ------------------------------------------------------------------------------------
def make_world() -> dict:
    """The owner's organization (with a profile), a second organization, the owner and the
    API key."""
    from core import services
    from core.models import Membership, Organization, User
    from passport.demo import PROFILE

    organization = Organization.objects.create(name="Bench cells", **PROFILE)
    other = Organization.objects.create(name="Bench packs")
    owner = User.objects.create_user(username="bench", email="bench@example.com", password=None)
    Membership.objects.create(user=owner, organization=organization, role=Membership.Role.OWNER)
    _, key = services.api_key_create(user=owner, name="bench")
    return {
        "organization": organization.pk,
        "other": other.pk,
        "owner": owner.pk,
        "key": key,
    }


def battery_id(index: int) -> str:
    return f"BENCH-{index:06d}"


def load_passports(world: dict, count: int) -> None:
    """``count`` full passports, every other one the owner's organization's."""
    from passport import services
    from passport.demo import EV
    from passport.models import Passport

    for start in range(0, count, BATCH):
        batch = []
        for index in range(start, min(start + BATCH, count)):
            document = copy.deepcopy(EV)
            document["batteryModel"] = f"DL-75 NMC rev. {index % 7}"
            document["hasStateOfBatteryProperties"]["stateOfCharge"] = index % 101
            organization = world["organization"] if index % 2 == 0 else world["other"]
            batch.append(
                services.passport_build(
                    organization_id=organization,
                    battery_id=battery_id(index),
                    document=document,
                    user=None,
                )
            )
        Passport.objects.bulk_create(batch)
        if (start // BATCH) % 10 == 9:
            print(f"    {start + BATCH:,} passports", flush=True)


def existing_world() -> dict:
    from core.models import Organization, User

    organization = Organization.objects.get(name="Bench cells")
    return {
        "organization": organization.pk,
        "other": Organization.objects.get(name="Bench packs").pk,
        "owner": User.objects.get(username="bench").pk,
        "key": None,
    }


# --- measurements ----------------------------------------------------------------------------
def _row(
    measurement: harness.Measurement,
    reference: harness.Measurement | None = None,
    *,
    compared: bool = True,
) -> list:
    cells = [
        measurement.label,
        f"{measurement.rps:,.0f}",
        f"{measurement.wrk.p50:.1f}",
        f"{measurement.wrk.p99:.1f}",
        f"{measurement.app_cpu_ms_per_request:.2f}",
        f"{measurement.db_cpu_ms_per_request or 0:.2f}",
    ]
    if compared:
        cells.append(f"{100 * measurement.rps / reference.rps:.0f}%" if reference else "—")
    return [*cells, f"{100 * measurement.other_load:.0f}%", measurement.wrk.errors]


def run(args: argparse.Namespace, env: dict[str, str]) -> dict:
    world = existing_world() if args.reuse else make_world()
    if args.reuse:
        from core import services
        from core.models import User

        _, world["key"] = services.api_key_create(
            user=User.objects.get(pk=world["owner"]), name="bench again"
        )
    else:
        with harness.timed(f"{args.passports:,} full passports"):
            load_passports(world, args.passports)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE passport_passport")
    owner = {"Authorization": f"User {world['key']}"}
    target = battery_id(args.passports // 2)  # even: the owner's organization's
    harness.close_django_connections()

    common = {
        "duration": args.duration,
        "warmup": args.warmup,
        "database": DATABASE,
        "repeat": args.repeat,
    }
    results: dict[str, harness.Measurement] = {}
    with harness.gunicorn_server(env, workers=args.workers) as server:
        # Every worker imports the URLconf and views on its first requests: not measured.
        harness.run_wrk(server.url("/passport/batteryPass/?limit=1"), duration=2, connections=6)

        single = [
            ("passport", f"/passport/batteryPass/{target}", f"/bench/passport-plain/{target}/"),
            (
                SECTION,
                f"/passport/batteryPass/{target}/{SECTION}",
                f"/bench/passport-plain/{target}/{SECTION}/",
            ),
        ]
        for what, api, plain in single:
            for reader, headers in (("owner", owner), ("anonymous", None)):
                for kind, path in (("API", api), ("plain", plain)):
                    label = f"{what}, {reader}, {kind}"
                    with harness.timed(label):
                        results[label] = harness.measure(
                            server,
                            path,
                            label=label,
                            headers=headers,
                            connections=args.connections,
                            **common,
                        )

        lists = [
            ("list, anonymous", f"/passport/batteryPass?limit={LIST_LIMIT}", None),
            (
                "list, owner, own organization",
                f"/passport/batteryPass?limit={LIST_LIMIT}&organization={world['organization']}",
                owner,
            ),
            ("list, owner, everything", f"/passport/batteryPass?limit={LIST_LIMIT}", owner),
        ]
        for label, path, headers in lists:
            for connections in (1, args.workers):
                name = f"{label}, {connections} conn."
                with harness.timed(name):
                    results[name] = harness.measure(
                        server, path, label=name, headers=headers, connections=connections, **common
                    )

    headers = ["GET", "req/s", "p50 ms", "p99 ms", "app CPU ms", "db CPU ms", "vs plain"]
    headers += ["other load", "errors"]
    rows = []
    for what, _, _ in single:
        for reader in ("owner", "anonymous"):
            api = results[f"{what}, {reader}, API"]
            plain = results[f"{what}, {reader}, plain"]
            rows += [_row(api, plain), _row(plain)]
    harness.print_table(
        headers,
        rows,
        title=f"(a), (b) one passport of {args.passports:,} (gunicorn {args.workers} workers, "
        f"{args.connections} connections; target: API >= 70% of plain)",
    )
    list_rows = [_row(results[name], compared=False) for name in results if name.startswith("list")]
    harness.print_table(
        [h for h in headers if h != "vs plain"],
        list_rows,
        title=f"(c) GET batteryPass?limit={LIST_LIMIT} (target: p50 < 150 ms)",
    )
    failures = [m for m in results.values() if m.wrk.errors]
    if failures:
        print("WARNING: requests failed in " + ", ".join(m.label for m in failures))
    return {name: measurement.as_dict() for name, measurement in results.items()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"bench_passport: {harness.CPU_COUNT} CPUs, gunicorn {args.workers} sync workers")
    harness.wrk_path()
    with harness.timed("database and migrations"):
        if args.reuse:
            parts = urlsplit(args.postgres_url)
            database_url = urlunsplit(parts._replace(path=f"/{DATABASE}"))
        else:
            database_url = harness.fresh_database(DATABASE, args.postgres_url)
        env = harness.bench_env(database_url, settings_module="bench.passport_settings")
        harness.migrate(env)
        harness.setup_django(env)
    try:
        figures = run(args, env)
    finally:
        harness.close_django_connections()
        if not (args.keep or args.reuse):
            harness.drop_database(DATABASE, args.postgres_url)
    if args.json:
        harness.write_json(args.json, figures)
    return 1 if any(m["wrk"]["non_2xx_3xx"] for m in figures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
