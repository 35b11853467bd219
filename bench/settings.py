"""Settings for benchmark servers: the platform's own settings plus the bench-only URLs."""

from core.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
