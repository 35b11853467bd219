from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from core import (  # noqa: F401  (they register themselves)
            checks,  # system checks: a placeholder secret key fails check --deploy
            openapi,  # the OpenAPI auth extensions
            sqlite,  # SQLite: one idle connection per process keeps the WAL open
        )
        from core.jobs.worker import connect_embedded

        connect_embedded()  # JOBS_WORKER=embedded: a worker thread in each server process
