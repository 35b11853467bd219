"""What the API answers for a passport, and the two answers each passport keeps ready.

:func:`passport_view` is a passport as a reader who sees some points of Annex XIII gets it:
the document trimmed to those points (``passport.classes.trim``), in documented order, with
the electrochemical properties also under the one-e key and ``organization`` as one extra key.

Most reads are by anyone (point 1) or by the owning organization and staff (every point), so
each passport keeps those two answers as JSON text, written with its document
(``passport.services``): reads answer them as they are (``orjson.Fragment``), without parsing,
trimming or encoding the document again, which is most of the cost of a page of 1,000
passports. Readers with a grant (points 1, 2, 4 or 1, 2, 3) get theirs made from the document.

The stored answers carry the :data:`STAMP` of the rules they were made with (the Annex XIII
tree, the keys added, the encoding). A change of those rules changes the stamp, and answers
with another stamp are never used: reads make them from the document until
``manage.py passport_render`` (or a write of the passport) stores them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

import orjson

from passport.classes import ALL_POINTS, PUBLIC, TREE, trim
from passport.definitions import ELECTROCHEMICAL, ELECTROCHEMICAL_ALIAS, ID_FIELD

#: Raise when the form of an answer changes in a way the tree does not show.
FORMAT_VERSION = 1


def rules_stamp(tree: dict) -> str:
    """The rules an answer depends on (the tree of points, the keys added, the format), as a
    short hash."""
    rules = [FORMAT_VERSION, tree, ID_FIELD, ELECTROCHEMICAL, ELECTROCHEMICAL_ALIAS]
    return hashlib.sha256(orjson.dumps(rules)).hexdigest()[:16]


#: The stamp of the running code's rules.
STAMP = rules_stamp(TREE)

#: The stored answers: column -> the points it shows.
STORED = {"public_json": PUBLIC, "full_json": ALL_POINTS}


def passport_view(
    *, battery_id: str, document: dict, organization_id: int, points: frozenset[int]
) -> dict:
    """A passport as the API answers it to a reader who sees ``points``."""
    data = trim({ID_FIELD: battery_id, **document}, points)
    if ELECTROCHEMICAL in data:
        data[ELECTROCHEMICAL_ALIAS] = data[ELECTROCHEMICAL]
    data["organization"] = organization_id
    return data


def encode(view: dict) -> str:
    """An answer as the API's renderer writes it (orjson), as text."""
    return orjson.dumps(view).decode()


def render(passport) -> None:
    """Sets the stored answers of ``passport`` (its id, organization and document set) and
    their stamp."""
    for column, points in STORED.items():
        view = passport_view(
            battery_id=passport.battery_id,
            document=passport.document,
            organization_id=passport.organization_id,
            points=points,
        )
        setattr(passport, column, encode(view))
    passport.rendered_with = STAMP


def stale_passports(queryset) -> Iterator:
    """The passports of ``queryset`` whose stored answers were made with other rules."""
    return queryset.exclude(rendered_with=STAMP).only(
        "id", "battery_id", "organization_id", "document"
    )


def render_all(passports: Iterable, *, model, batch_size: int = 500) -> int:
    """Stores the answers of ``passports`` again (in batches, without touching their
    documents or versions); returns how many."""
    count, batch = 0, []
    for passport in passports:
        render(passport)
        batch.append(passport)
        if len(batch) >= batch_size:
            model.objects.bulk_update(batch, [*STORED, "rendered_with"])
            count, batch = count + len(batch), []
    if batch:
        model.objects.bulk_update(batch, [*STORED, "rendered_with"])
        count += len(batch)
    return count
