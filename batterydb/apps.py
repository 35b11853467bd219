from django.apps import AppConfig


class BatterydbConfig(AppConfig):
    name = "batterydb"
    verbose_name = "BatteryDB"
