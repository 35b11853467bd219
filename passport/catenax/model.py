"""The Catena-X battery pass 3.0.1 model: its published JSON Schema
(``passport/schemas/battery_pass-3.0.1.schema.json``), the validators an export is checked
with (the full schema for a reader who sees every point, ``required`` relaxed otherwise) and
which targets the schema requires."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

MEDIA_TYPE = "application/vnd.catenax.battery-pass+json"
FORMAT = "catenax"
MODEL = "urn:samm:io.catenax.battery.battery_pass:3.0.1#BatteryPass"
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "battery_pass-3.0.1.schema.json"


@cache
def schema() -> dict:
    """The Catena-X battery pass 3.0.1 JSON Schema, as published."""
    return json.loads(SCHEMA_FILE.read_text())


def without_required(value: Any) -> Any:
    """``value`` (a schema) with every ``required`` list left out: what a trimmed export
    satisfies."""
    if isinstance(value, dict):
        return {key: without_required(item) for key, item in value.items() if key != "required"}
    if isinstance(value, list):
        return [without_required(item) for item in value]
    return value


@cache
def validator(complete: bool) -> Draft4Validator:
    document = schema() if complete else without_required(schema())
    return Draft4Validator(document, format_checker=FormatChecker())


def _resolve(node: dict) -> dict:
    """A schema node with its ``$ref`` and ``allOf`` followed (the published schema refers to
    ``#/components/schemas/...`` only)."""
    definitions = schema()["components"]["schemas"]
    while "$ref" in node:
        node = definitions[node["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in node:
        merged: dict = {key: value for key, value in node.items() if key != "allOf"}
        for part in node["allOf"]:
            resolved = _resolve(part)
            merged = {
                **merged,
                **resolved,
                "properties": {**merged.get("properties", {}), **resolved.get("properties", {})},
                "required": [*merged.get("required", []), *resolved.get("required", [])],
            }
        node = merged
    return node


@cache
def required(target: str) -> bool:
    """Whether Catena-X requires the value at the dotted ``target`` path: it and every object
    above it are required."""
    node = _resolve(schema())
    for key in target.split("."):
        if key not in node.get("required", []):
            return False
        node = _resolve(node["properties"][key])
    return True
