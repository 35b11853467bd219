from django.apps import AppConfig


class BatterydbConfig(AppConfig):
    name = "batterydb"
    verbose_name = "BatteryDB"
    # Links in the site's navigation for signed-in users (see core.context_processors).
    nav_links = [
        ("EIS tests", "batterydb-pages:eis-test-list"),
        ("BMS tests", "batterydb-pages:bms-test-list"),
    ]

    def ready(self) -> None:
        from batterydb import signals
        from batterydb.services import analysis, decode  # noqa: F401 - register their job kinds

        signals.connect()
