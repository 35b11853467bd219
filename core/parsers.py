"""A JSON parser on orjson that keeps DRF's size limit and strictness."""

from __future__ import annotations

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class ORJSONParser(JSONParser):
    """Parses JSON with orjson. Subclassing ``JSONParser`` makes DRF read the body through
    ``request.body``, which enforces ``DATA_UPLOAD_MAX_MEMORY_SIZE``. NaN and Infinity are
    not JSON and are rejected."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise ParseError("JSON bodies must be encoded as UTF-8.")
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
