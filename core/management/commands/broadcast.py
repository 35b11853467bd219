"""Send a message to every socket on the platform stream (``/ws/platform/``)."""

import json

from django.core.management.base import BaseCommand, CommandError

from core.broadcast import group_send_now
from core.services import PLATFORM_GROUP


class Command(BaseCommand):
    help = "Broadcast a JSON message (or a plain string) to the platform WebSocket stream."

    def add_arguments(self, parser):
        parser.add_argument("message", help="JSON, or text sent as a string")

    def handle(self, *args, **options):
        try:
            message = json.loads(options["message"])
        except json.JSONDecodeError:
            message = options["message"]
        # The same frame as core.services.platform_broadcast, sent at once.
        if not group_send_now(
            group=PLATFORM_GROUP, message={"type": "message", "message": message}
        ):
            raise CommandError("The channel layer did not take the message (see the log).")
        self.stdout.write("sent")
