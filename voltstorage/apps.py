from django.apps import AppConfig


class VoltstorageConfig(AppConfig):
    name = "voltstorage"
    verbose_name = "VoltStorage"
