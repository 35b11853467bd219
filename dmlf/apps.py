from django.apps import AppConfig


class DmlfConfig(AppConfig):
    name = "dmlf"
    verbose_name = "Data Mining Lab Freiberg"
    # Links in the site's navigation for signed-in users (see core.context_processors).
    nav_links = [("DMLF API", "dmlf:swagger-ui")]

    def ready(self) -> None:
        from dmlf import signals

        signals.connect()
