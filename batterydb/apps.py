from django.apps import AppConfig


class BatterydbConfig(AppConfig):
    name = "batterydb"
    verbose_name = "BatteryDB"

    def ready(self) -> None:
        from batterydb import signals

        signals.connect()
