from django.apps import AppConfig


class DmlfConfig(AppConfig):
    name = "dmlf"
    verbose_name = "Data Mining Lab Freiberg"
