from django.apps import AppConfig


class PassportConfig(AppConfig):
    name = "passport"
    verbose_name = "Digital Battery Passport"
    # Links in the site's navigation for signed-in users (see core.context_processors).
    nav_links = [("Battery passports", "passport:page-list")]

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from passport.models import Passport

        def keep_changes(sender, instance, history_instance, **kwargs):
            """A version records what the write that made it changed (``passport.services``)."""
            history_instance.changes = getattr(instance, "_history_changes", [])

        pre_create_historical_record.connect(
            keep_changes, sender=Passport.history.model, weak=False, dispatch_uid="passport"
        )
