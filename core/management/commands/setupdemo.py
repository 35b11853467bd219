"""Create the demo account, fill each app's demo data where it is missing, and print fresh
credentials on every run.

Core names no app: each app of ``settings.PLATFORM_APPS`` that has a ``demo`` module with a
``create_demo_data(*, organization)`` function is called on every run with the demo
organization. The hook fills the organization with the app's sample data when the app has
none there, and returns whether it did; so an app added to an installation whose demo
organization already exists gets its data on the next run, and no run creates anything twice.
"""

from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.crypto import get_random_string

from core import services
from core.models import Membership, Organization, User

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_ORGANIZATION = "Demo Lab"
DEMO_KEY_NAME = "demo key"


class Command(BaseCommand):
    help = (
        "Create the demo user and organization (once) and each app's sample data where the "
        "app has none. Each run sets a new demo password and replaces the demo API key, and "
        "prints both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args, **options):
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": DEMO_EMAIL, "first_name": "Demo"}
        )
        password = get_random_string(16)
        user.set_password(password)
        user.save()
        organization = Organization.objects.filter(
            memberships__user=user, memberships__role=Membership.Role.OWNER, name=DEMO_ORGANIZATION
        ).first()
        if organization is None:
            organization = services.organization_create(name=DEMO_ORGANIZATION, owner=user)
        filled = [
            app
            for app, create_demo_data in demo_hooks()
            if create_demo_data(organization=organization)
        ]
        for old_key in user.api_keys.filter(name=DEMO_KEY_NAME, revoked=False):
            services.api_key_revoke(api_key=old_key)
        _, key = services.api_key_create(user=user, name=DEMO_KEY_NAME)

        base = options["base_url"].rstrip("/")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Demo account {'created' if created else 'ready'}.",
                    *([f"  Demo data added for: {', '.join(filled)}."] if filled else []),
                    f"  Log in at {base}/accounts/login/",
                    f"    username: {DEMO_USERNAME}   password: {password}",
                    f"  Demo API key (the previous one is revoked): {key}",
                    f"  Try: curl -H 'Authorization: User {key}' {base}/api/v2/organizations/",
                    f"  API docs: {base}/api/docs/",
                    "",
                ]
            )
        )


def demo_hooks() -> list[tuple[str, Callable[..., bool]]]:
    """``(app, create_demo_data)`` of each platform app that has a demo hook, in the order of
    ``settings.PLATFORM_APPS``."""
    hooks = []
    for app in settings.PLATFORM_APPS:
        if find_spec(f"{app}.demo") is None:
            continue
        hook = getattr(import_module(f"{app}.demo"), "create_demo_data", None)
        if callable(hook):
            hooks.append((app, hook))
    return hooks
