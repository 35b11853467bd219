"""Parsers of uploaded files, run by ``core.bounded`` in a child process with limits.

Each is a plain function of the file's bytes (and JSON options) returning a JSON summary,
raising ``ValueError`` with a message for the client when the file is bad. This module
imports nothing of Django, so that the child starts quickly and holds nothing of the server.
"""

from __future__ import annotations

import re

# A message definition: "BO_ <id> <name>: <size> <sender>" at the start of a line.
_MESSAGE_LINE = re.compile(rb"^[ \t]*BO_[ \t]", re.M)


def decode_dbc(raw: bytes) -> str:
    """DBC files are nominally Windows-1252; many tools write UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def dbc_summary(raw: bytes, *, max_messages: int, max_names: int) -> dict:
    """Parse a DBC file with cantools and summarize it.

    Returns ``{"message_count", "signal_count", "nodes", "message_names",
    "message_names_truncated"}`` with at most ``max_names`` names in each list. A file with
    more than ``max_messages`` messages is refused before cantools reads it; a file that does
    not parse is refused with cantools' message, which names the line and column.
    """
    from batterydb.readers.can_logs import asammdf_left_out

    with asammdf_left_out():  # cantools imports python-can, which would import asammdf
        from cantools.database.can.formats import dbc

    declared = sum(1 for _ in _MESSAGE_LINE.finditer(raw))
    if declared > max_messages:
        raise ValueError(
            f"The file defines {declared} messages; at most {max_messages} are accepted."
        )
    text = decode_dbc(raw)
    if not text.strip():
        raise ValueError("The file is empty.")
    try:
        database = dbc.load_string(text, strict=True)
    except MemoryError:
        raise
    except Exception as exc:  # cantools raises many exception types on bad input
        message = str(exc).strip() or type(exc).__name__
        raise ValueError(f"Not a valid DBC file: {message}") from exc
    messages = database.messages
    names = [message.name for message in messages]
    return {
        "message_count": len(messages),
        "signal_count": sum(len(message.signals) for message in messages),
        "nodes": [node.name for node in database.nodes][:max_names],
        "message_names": names[:max_names],
        "message_names_truncated": len(names) > max_names,
    }
