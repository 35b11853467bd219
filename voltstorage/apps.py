from django.apps import AppConfig


class VoltstorageConfig(AppConfig):
    name = "voltstorage"
    verbose_name = "VoltStorage"
    # Links in the site's navigation for signed-in users (see core.context_processors).
    nav_links = [("Energy storage", "voltstorage-pages:product-list")]

    def ready(self) -> None:
        from core.exceptions import register_error_format
        from voltstorage.errors import PREFIX, voltstorage_errors

        register_error_format(PREFIX, voltstorage_errors)
