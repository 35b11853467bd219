"""``manage.py passport_render``: stores again the answers of the passports that were made
with other rules than the running code's (``passport.representations``), e.g. after a change
of the Annex XIII table. Until then those passports are answered from their documents, which
is correct but slower."""

from django.core.management.base import BaseCommand

from passport.models import Passport
from passport.representations import STAMP, render_all, stale_passports


class Command(BaseCommand):
    help = "Store again the ready answers of passports made with other rules than the code's."

    def handle(self, *args, **options):
        passports = stale_passports(Passport.objects.order_by("id")).iterator(chunk_size=500)
        count = render_all(passports, model=Passport)
        self.stdout.write(f"{count} passports rendered with the rules {STAMP}.")
