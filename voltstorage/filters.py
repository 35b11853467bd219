"""The query parameters of the VoltStorage lists: products and groups as bare arrays.

Products take ``count`` (page size: 1000 by default and at most, a larger value gives 1000),
``page`` (the first is 1), ``q`` (free text over the id, the serial number, the type's name and
the group's name), ``groupId``, ``installationDate`` (``true``: installed products only,
``false``: those not installed), ``ids`` (``ids=1&ids=2`` or ``ids=1,2``), ``ownerId`` and
``sort`` (a comma-separated list of fields, ``-`` before a field for descending order, such
as ``installationDate,-id``; empty values sort after every other value either way, and the id
ends every order). Every value that cannot be read is a 400 naming its parameter. The total is
in ``X-Total-Count``, the neighbouring pages in ``Link``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from rest_framework.exceptions import ValidationError

from core.filters import MAX_BIGINT, parse_id, repeated_values
from core.pagination import page_headers

MAX_PAGE_SIZE = 1000
MAX_QUERY_LENGTH = 200

#: Sortable product fields: wire name to model field.
PRODUCT_SORT_FIELDS = {
    "id": "id",
    "serialNumber": "serial_number",
    "hardwareVersion": "hardware_version",
    "manufacturingDate": "manufacturing_date",
    "installationDate": "installation_date",
    "timezone": "timezone",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "typeId": "type_id",
    "groupId": "group_id",
}
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def integer_param(params, name: str, *, minimum: int = 0, default=None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [f"Must be an integer; got {raw[:40]!r}."]}) from None
    if value < minimum or value > MAX_BIGINT:
        raise ValidationError({name: [f"Must be an integer from {minimum} to {MAX_BIGINT}."]})
    return value


def boolean_param(params, name: str, default: bool | None = None) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValidationError({name: [f"Must be true or false; got {raw[:40]!r}."]})


def id_list_param(params, name: str) -> list[int] | None:
    values = repeated_values(params, name)
    if values is None:
        return None
    ids = []
    for value in values:
        try:
            number = int(value)
        except ValueError:
            raise ValidationError(
                {name: [f"Must be integers, repeated or comma-separated; got {value[:40]!r}."]}
            ) from None
        if not 0 <= number <= MAX_BIGINT:
            raise ValidationError({name: [f"Must be integers from 0 to {MAX_BIGINT}."]})
        ids.append(number)
    return ids


def sort_param(params, name: str, fields: dict[str, str]) -> list:
    raw = params.get(name)
    if not raw:
        return [F("id").asc()]
    ordering = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        descending = part.startswith("-")
        key = part.lstrip("-+")
        field = fields.get(key)
        if field is None:
            raise ValidationError(
                {name: [f"Cannot sort by {key!r}; sortable fields: {', '.join(fields)}."]}
            )
        expression = F(field)
        ordering.append(
            expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        )
    if not any(getattr(o.expression, "name", None) == "id" for o in ordering):
        ordering.append(F("id").asc())
    return ordering


def filter_products(queryset: QuerySet, params) -> QuerySet:
    """The products of ``queryset`` that the query parameters select, in their order."""
    text = params.get("q")
    if text:
        if "\x00" in text:  # PostgreSQL refuses NUL characters in text (a 500)
            raise ValidationError({"q": ["Must not contain NUL characters (\\u0000)."]})
        text = text.strip()[:MAX_QUERY_LENGTH]
        condition = (
            Q(serial_number__icontains=text)
            | Q(type__name__icontains=text)
            | Q(group__name__icontains=text)
        )
        if (product_id := parse_id(text)) is not None:
            condition |= Q(pk=product_id)
        queryset = queryset.filter(condition)
    group = integer_param(params, "groupId")
    if group is not None:
        queryset = queryset.filter(group_id=group)
    owner = integer_param(params, "ownerId")
    if owner is not None:
        queryset = queryset.filter(owner_id=owner)
    installed = boolean_param(params, "installationDate")
    if installed is not None:
        queryset = queryset.filter(installation_date__isnull=not installed)
    ids = id_list_param(params, "ids")
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.order_by(*sort_param(params, "sort", PRODUCT_SORT_FIELDS))


@dataclass
class Page:
    """One page of a list, from ``count`` and ``page``."""

    items: list
    total: int
    size: int
    number: int

    @classmethod
    def of(cls, request, queryset: QuerySet) -> Page:
        params = request.query_params
        size = min(integer_param(params, "count", minimum=1, default=MAX_PAGE_SIZE), MAX_PAGE_SIZE)
        number = integer_param(params, "page", minimum=1, default=1)
        total = queryset.count()
        offset = (number - 1) * size
        items = list(queryset[offset : offset + size]) if offset < total else []
        page = cls(items=items, total=total, size=size, number=number)
        page.request = request
        return page

    def headers(self) -> dict[str, str]:
        previous = None
        if self.number > 1:
            previous = {"page": min(self.number - 1, max(1, -(-self.total // self.size)))}
        return page_headers(
            self.request,
            total=self.total,
            next_params={"page": self.number + 1} if self.number * self.size < self.total else None,
            previous_params=previous,
        )
