"""The answer to ``OPTIONS`` under every API: DRF's, with the object lookup in a transaction."""

from __future__ import annotations

from django.db import transaction
from rest_framework.metadata import SimpleMetadata


class PlatformMetadata(SimpleMetadata):
    """DRF's ``SimpleMetadata``, whose description of the write methods reads the object
    inside a transaction.

    To tell whether ``PUT`` is allowed, DRF looks the object up as if the request were a
    ``PUT``. Views that lock the rows they are about to change (``select_for_update()`` for
    unsafe methods, as the passport and DMLF views do) then lock outside any transaction,
    which Django refuses: ``OPTIONS`` was a 500. The transaction only reads.
    """

    def determine_actions(self, request, view):
        with transaction.atomic():
            return super().determine_actions(request, view)
