"""Settings of the EIS analysis benchmark's servers: the bench settings plus the reference view
of ``bench.analysis_views`` (``bench.analysis_urls``)."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.analysis_urls"
