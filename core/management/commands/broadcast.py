"""Send a message to every socket on the platform stream (``/ws/platform/``)."""

import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management.base import BaseCommand, CommandError

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
        layer = get_channel_layer()
        if layer is None:
            raise CommandError("No channel layer is configured.")
        async_to_sync(layer.group_send)(
            PLATFORM_GROUP, {"type": "platform.message", "message": message}
        )
        self.stdout.write("sent")
