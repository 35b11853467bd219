"""Deleting an organization with everything it owns, in bounded memory and time.

Django's collector (``Organization.delete()``) loads every related object into memory, sends
a signal per object and refuses on any PROTECT foreign key, even one between two objects of
the organization that go together. Here the rows go table by table in plain ``DELETE``
statements, and Python holds no more than a batch of ids at a time:

* The models are found with ``apps.get_models()`` (core imports no app). A model is *owned*
  when it has a foreign key to ``Organization`` (the one its ``organization_field`` names, if
  it names one), or when its ``organization_field`` path starts with a foreign key to an owned
  model (a sample that belongs to its project's organization).
* A model whose organization column has an index goes in one
  ``DELETE ... WHERE organization_id = %s``. A model whose organization column has no index
  (the measurement tables carry a copy of their test's organization without one) goes through
  a parent it refers to with ``CASCADE`` by an indexed column: the parents' ids are read in
  batches of ``PARENT_BATCH`` and each batch deletes ``WHERE parent_id IN (...)``, an index
  scan. A model that reaches its organization through a parent goes the same way.
* Foreign keys between rows of the organization need no order: Django creates them
  ``DEFERRABLE INITIALLY DEFERRED`` on PostgreSQL and SQLite, so they are checked at commit,
  when both sides are gone. Children found through a parent go before the parent, since the
  parent's ids select them.
* Concurrent writers: the organization's row is locked first, so a writer adding a row that
  refers to it waits and then fails its foreign key check; the parents are locked as their ids
  are read, for the children (whose organization column has no constraint) likewise.
* Rows outside the organization that refer to its rows (the tables of many-to-many fields, or
  anything else) first get their foreign key's ``on_delete`` through Django's collector:
  ``CASCADE`` deletes them, ``SET_NULL``/``SET_DEFAULT``/``SET()`` change the reference,
  ``PROTECT`` and ``RESTRICT`` refuse the whole deletion (``ProtectedError``, a 409 in the API).
* Files: the names held by the ``FileField``\\ s of the rows are read in batches before the rows
  go, spooled to a temporary file, and deleted from their storage once the transaction commits
  (never if it rolls back).
"""

from __future__ import annotations

import functools
import json
import logging
import tempfile
from collections import Counter
from dataclasses import dataclass

from django.apps import apps
from django.db import models, router, transaction
from django.db.models import Model, Q, QuerySet
from django.db.models.deletion import DO_NOTHING, RESTRICT, Collector, ProtectedError

from core.models import Organization

logger = logging.getLogger(__name__)

#: Parent rows (tests) whose children (measurement rows) one ``DELETE`` removes.
PARENT_BATCH = 500
#: Rows read at a time when collecting the names of stored files.
FILE_BATCH = 2000
#: Objects named in the error when rows outside the organization block the deletion.
PROTECTED_EXAMPLES = 10


@dataclass(frozen=True)
class OwnedModel:
    """How to find an owned model's rows of one organization: by ``organization``, its foreign
    key to ``Organization``, when ``parent`` is None; otherwise by ``parent``, a foreign key to
    another owned model, ``depth`` steps from a model found by its organization."""

    model: type[Model]
    organization: models.ForeignKey | None = None
    parent: models.ForeignKey | None = None
    depth: int = 0

    @property
    def label(self) -> str:
        return self.model._meta.label


def _foreign_keys(model: type[Model]) -> list[models.ForeignKey]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.is_relation and (field.many_to_one or field.one_to_one)
    ]


def _concrete(model: type[Model] | None) -> type[Model] | None:
    return model._meta.concrete_model if model is not None else None


def _candidate_models(*, include_auto_created: bool) -> list[type[Model]]:
    return [
        model
        for model in apps.get_models(include_auto_created=include_auto_created)
        if model._meta.managed and not model._meta.proxy
    ]


def _indexed(model: type[Model], field: models.Field) -> bool:
    """Whether an index serves a lookup by ``field``'s column alone: its own, or one without
    condition that starts with it. (A partial index does not: the database's foreign key check
    looks rows up by the column alone, and would scan the table once per deleted parent.)"""
    if field.db_index or field.unique or field.primary_key:
        return True
    entries = [*model._meta.constraints, *model._meta.indexes]
    leading = [
        [name.lstrip("-") for name in getattr(entry, "fields", ()) or ()]
        for entry in entries
        if getattr(entry, "condition", None) is None
    ]
    leading += [list(names) for names in model._meta.unique_together]
    return any(names and names[0] == field.name for names in leading)


@functools.cache
def deletion_plan() -> tuple[OwnedModel, ...]:
    """Every owned model and how its rows are found, children before their parents."""
    direct: dict[type[Model], models.ForeignKey] = {}
    for model in _candidate_models(include_auto_created=False):
        if model is Organization:
            continue
        to_organization = [
            field
            for field in _foreign_keys(model)
            if _concrete(field.related_model) is Organization
        ]
        if not to_organization:
            continue
        named = getattr(model, "organization_field", None)
        direct[model] = next((f for f in to_organization if f.name == named), to_organization[0])

    owned: dict[type[Model], OwnedModel] = {
        model: OwnedModel(model=model, organization=field)
        for model, field in direct.items()
        if _indexed(model, field)
    }
    # Models without an index on their organization column, or reaching their organization
    # through a parent: found through the parent, once the parent's own way is known.
    pending = [m for m in _candidate_models(include_auto_created=False) if m not in owned]
    changed = True
    while changed:
        changed = False
        for model in list(pending):
            entry = _through_parent(model, owned, direct.get(model))
            if entry is not None:
                owned[model] = entry
                pending.remove(model)
                changed = True
    # An unindexed organization column with no usable parent: correct, if slow.
    for model in pending:
        if model in direct:
            owned[model] = OwnedModel(model=model, organization=direct[model])
    return tuple(sorted(owned.values(), key=lambda entry: (-entry.depth, entry.label)))


def _through_parent(
    model: type[Model], owned: dict[type[Model], OwnedModel], organization_fk
) -> OwnedModel | None:
    """``model``'s rows found through a parent: the first hop of its ``organization_field``
    path, or (for an unindexed organization column) an indexed ``CASCADE`` key to an owned
    model."""
    path = getattr(model, "organization_field", "") or ""
    first_hop = path.split("__")[0] if "__" in path else None
    candidates = []
    for field in _foreign_keys(model):
        parent = owned.get(_concrete(field.related_model))
        if parent is None:
            continue
        if field.name == first_hop and organization_fk is None:
            candidates.append((0, field, parent))  # the only way to the rows, index or not
        elif (
            organization_fk is not None
            and field.remote_field.on_delete is models.CASCADE
            and _indexed(model, field)
        ):
            candidates.append((1, field, parent))
    if not candidates:
        return None
    _, field, parent = min(candidates, key=lambda c: (c[0], c[1].name))
    return OwnedModel(
        model=model, organization=organization_fk, parent=field, depth=parent.depth + 1
    )


def _plan_by_model() -> dict[type[Model], OwnedModel]:
    return {entry.model: entry for entry in deletion_plan()}


def owned_rows(entry: OwnedModel, organization_id, plan=None) -> QuerySet:
    """The rows of ``entry.model`` that belong to the organization."""
    manager = entry.model._base_manager
    if entry.parent is None:
        return manager.filter(**{entry.organization.name: organization_id})
    plan = plan or _plan_by_model()
    parent = plan[_concrete(entry.parent.related_model)]
    return manager.filter(**{f"{entry.parent.name}__in": owned_rows(parent, organization_id, plan)})


def _owned_q(entry: OwnedModel, organization_id, plan) -> Q:
    if entry.parent is None:
        return Q(**{entry.organization.name: organization_id})
    parent = plan[_concrete(entry.parent.related_model)]
    return Q(**{f"{entry.parent.name}__in": owned_rows(parent, organization_id, plan)})


def _references_from_outside(organization_id, plan) -> list[tuple[models.ForeignKey, QuerySet]]:
    """For each foreign key to an owned model (or the organization): the rows outside the
    organization that point at its rows."""
    found = []
    for model in _candidate_models(include_auto_created=True):
        own = plan.get(model)
        for field in _foreign_keys(model):
            target = _concrete(field.related_model)
            if own is not None and field in (own.organization, own.parent):
                continue  # the way this model's own rows are found: they go anyway
            if target is Organization:
                rows = model._base_manager.filter(**{field.name: organization_id})
            elif target in plan:
                targets = owned_rows(plan[target], organization_id, plan)
                rows = model._base_manager.filter(**{f"{field.name}__in": targets})
            else:
                continue
            if own is not None:
                rows = rows.exclude(_owned_q(own, organization_id, plan))
            found.append((field, rows))
    return found


def _apply_on_delete(organization_id, plan, using: str) -> None:
    """Give rows outside the organization that refer to its rows their ``on_delete``."""
    collector = Collector(using=using, origin=Organization(pk=organization_id))
    for field, rows in _references_from_outside(organization_id, plan):
        on_delete = field.remote_field.on_delete
        if on_delete is DO_NOTHING:
            continue
        if not getattr(on_delete, "lazy_sub_objs", False) and not rows.exists():
            continue
        if on_delete is RESTRICT:
            on_delete = models.PROTECT
        try:
            on_delete(collector, field, rows, using)
        except ProtectedError as exc:
            examples = list(rows[:PROTECTED_EXAMPLES])
            raise ProtectedError(
                f"Rows outside the organization refer to it through "
                f"{field.model._meta.label}.{field.name}.",
                examples,
            ) from exc
    collector.delete()


class _FileSpool:
    """Names of stored files to delete after commit, kept in a temporary file so that an
    organization with many files costs no more memory than one with few."""

    def __init__(self) -> None:
        self.fields: list[models.FileField] = []
        self.count = 0
        # Open until the callback after commit reads it (or, on rollback, until collected).
        self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=1 << 20, mode="w+", encoding="utf-8"
        )

    def collect(self, rows: QuerySet) -> None:
        file_fields = [
            f for f in rows.model._meta.concrete_fields if isinstance(f, models.FileField)
        ]
        if not file_fields:
            return
        start = len(self.fields)
        self.fields.extend(file_fields)
        names = rows.values_list(*(f.attname for f in file_fields)).order_by()
        for row in names.iterator(chunk_size=FILE_BATCH):
            for offset, name in enumerate(row):
                if name:
                    self._spool.write(json.dumps([start + offset, name]) + "\n")
                    self.count += 1

    def delete_files(self) -> None:
        """Delete every spooled file from its storage; a failure is logged, not raised."""
        self._spool.seek(0)
        for line in self._spool:
            index, name = json.loads(line)
            try:
                self.fields[index].storage.delete(name)
            except Exception:
                logger.exception("Could not delete the stored file %s", name)
        self._spool.close()


def organization_delete_everything(*, organization: Organization) -> Counter:
    """Delete ``organization`` and every row it owns, in one transaction; the files of those
    rows leave their storage after the commit. Returns the deleted rows per model label.

    Raises ``ProtectedError`` (nothing deleted) when rows outside the organization refer to
    its rows through a PROTECT or RESTRICT foreign key."""
    using = router.db_for_write(Organization, instance=organization)
    organization_id = organization.pk
    plan = _plan_by_model()
    deleted: Counter = Counter()
    files = _FileSpool()
    with transaction.atomic(using=using):
        # Writers referring to the organization wait for this lock, then fail their check.
        list(Organization.objects.using(using).select_for_update().filter(pk=organization_id))
        _apply_on_delete(organization_id, plan, using)
        for entry in deletion_plan():
            files.collect(owned_rows(entry, organization_id, plan))
        for entry in deletion_plan():
            deleted[entry.label] += _delete_rows(entry, organization_id, plan, using)
        # The same fast path Django's collector takes for rows nothing depends on.
        deleted[Organization._meta.label] += (
            Organization._base_manager.using(using).filter(pk=organization_id)._raw_delete(using)
        )
        if files.count:
            transaction.on_commit(files.delete_files, using=using)
    return deleted


def _delete_rows(entry: OwnedModel, organization_id, plan, using: str) -> int:
    manager = entry.model._base_manager.using(using)
    if entry.parent is None:
        return manager.filter(**{entry.organization.name: organization_id})._raw_delete(using)
    parent = plan[_concrete(entry.parent.related_model)]
    # Locked as they are read: a writer adding rows to one of these parents either committed
    # before (and this batch's DELETE sees its rows) or waits, then fails its foreign key check.
    parent_ids = (
        owned_rows(parent, organization_id, plan)
        .using(using)
        .select_for_update()
        .order_by()
        .values_list("pk", flat=True)
    )

    def delete(batch: list) -> int:
        return manager.filter(**{f"{entry.parent.name}__in": batch})._raw_delete(using)

    count, batch = 0, []
    # One pass over the parents' ids (a server-side cursor on PostgreSQL).
    for pk in parent_ids.iterator(chunk_size=PARENT_BATCH):
        batch.append(pk)
        if len(batch) == PARENT_BATCH:
            count += delete(batch)
            batch = []
    if batch:
        count += delete(batch)
    return count
