"""Create a personal API key for a user and print it once (for provisioning devices)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError

from core import services
from core.models import User


class Command(BaseCommand):
    help = "Create an API key for a user (by username or email) and print the key once."

    def add_arguments(self, parser):
        parser.add_argument("user", help="username or email")
        parser.add_argument("--name", required=True, help="a name for the key (50 chars max)")
        parser.add_argument("--expires", help="last valid day, YYYY-MM-DD (UTC)")

    def handle(self, *args, **options):
        try:
            user = User.objects.get_by_login(options["user"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with username or email {options['user']!r}.") from exc
        name = options["name"].strip()
        if not name or len(name) > 50:
            raise CommandError("--name must be 1 to 50 characters.")
        expires = None
        if options["expires"]:
            try:
                expires = dt.date.fromisoformat(options["expires"])
            except ValueError as exc:
                raise CommandError("--expires must be a date, YYYY-MM-DD.") from exc
        try:
            api_key, key = services.api_key_create(user=user, name=name, expiry_date=expires)
        except ValidationError as exc:
            raise CommandError(str(exc.detail)) from exc
        self.stderr.write(
            f"Created API key {api_key.prefix} ({api_key.name!r}) for {user.username}; "
            "store it now, it is not shown again:"
        )
        self.stdout.write(key)
