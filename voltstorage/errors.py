"""VoltStorage's error shape: ``{"errors": ["<message>", ...]}``, the shape its one public
client reads (``errors[0]``). Registered for ``/voltstorage/`` in ``VoltstorageConfig.ready``,
so that every error there takes it (``core.exceptions``): validation, 401, 403, 404, 405, 413,
429 and 500. A message about a parameter or a field of the body starts with its name
(``count: Must be an integer ...``; ``samples[3].data.pvPower: ...`` for ingestion)."""

from __future__ import annotations

from typing import Any

PREFIX = "/voltstorage/"
_UNNAMED = {"detail", "non_field_errors", "messages", "message"}
# Machine-readable companions of a message (DRF's and simplejwt's), not messages themselves.
_LEFT_OUT = {"code", "token_class", "token_type"}


def error_messages(data: Any, name: str = "") -> list[str]:
    """Every message in DRF's error ``data``, each after the name of what it is about."""
    if isinstance(data, dict):
        messages = []
        for key, value in data.items():
            key = str(key)
            if key in _LEFT_OUT:
                continue
            if key in _UNNAMED:
                inner = name
            elif key.isdigit():
                inner = f"{name}[{key}]"
            else:
                inner = f"{name}.{key}" if name else key
            messages += error_messages(value, inner)
        return messages
    if isinstance(data, list | tuple):
        return [message for item in data for message in error_messages(item, name)]
    return [f"{name}: {data}" if name else str(data)]


def voltstorage_errors(status: int, data: Any) -> dict:
    return {"errors": error_messages(data)}
