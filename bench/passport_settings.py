"""Settings of the passport benchmark servers: the bench settings plus the plain reference
view of ``bench.views`` (``bench.passport_urls``)."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.passport_urls"
