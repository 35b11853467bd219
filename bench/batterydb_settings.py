"""Settings of the BatteryDB benchmark servers: the bench settings plus the reference views of
``bench.batterydb_views`` (``bench.batterydb_urls``)."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.batterydb_urls"
