"""Sample types as data: each type holds a JSON Schema of its ``sample_info`` files.

Staff add and change types in the admin; a schema is checked when it is saved
(:func:`schema_check`): a JSON Schema (draft 2020-12) of an object whose ``properties`` each
describe one field, with ``required`` naming some of them. The original API's four types
(Battery, Solids, Liquid, Suspension) are :data:`BUILTIN_SAMPLE_TYPES`, created by a data
migration.

From a schema come:

* :func:`sample_type_info`: the original's field description,
  ``{field: {"type": <DRF field class>, "help_text", "required", "allow_null"}}``, in the
  order of ``properties`` (``type`` from the property's JSON type and format: ``CharField``,
  ``DateField``, ``FloatField``...; ``help_text`` its ``description``; ``allow_null`` whether
  ``null`` is among its types);
* :func:`sample_info_validate`: a ``sample_info`` document checked against it, every problem
  reported under the field it concerns. As the original's serializers did, an empty string
  for an optional field is accepted as null (or as absent where null is not allowed), and a
  number may be written as a string (``"12.5"``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

SCHEMA_MAX_LENGTH = 64 * 1024

_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_OPTIONAL_TEXT = {"type": ["string", "null"], "minLength": 1, "maxLength": 255}
_AMOUNT = {"type": "number", "minimum": 0}
_OPTIONAL_AMOUNT = {"type": ["number", "null"], "minimum": 0}

#: The original API's sample types, in the order of their ids there.
BUILTIN_SAMPLE_TYPES: dict[str, dict[str, Any]] = {
    "Battery": {
        "type": "object",
        "properties": {
            "name": _NAME,
            "composition": {"type": "string", "maxLength": 255},
            "manufacturer": _NAME,
            "produced": {"type": ["string", "null"], "format": "date"},
            "comment": _OPTIONAL_TEXT,
        },
        "required": ["name", "manufacturer"],
    },
    "Solids": {
        "type": "object",
        "properties": {
            "name": _NAME,
            "weight_in_g": _AMOUNT,
            "volume_in_ccm": _OPTIONAL_AMOUNT,
            "density_in_gccm": _OPTIONAL_AMOUNT,
            "comment": _OPTIONAL_TEXT,
        },
        "required": ["name", "weight_in_g"],
    },
    "Liquid": {
        "type": "object",
        "properties": {
            "name": _NAME,
            "volume_in_ccm": _AMOUNT,
            "weight_in_g": _OPTIONAL_AMOUNT,
            "density_in_gccm": _OPTIONAL_AMOUNT,
            "comment": _OPTIONAL_TEXT,
        },
        "required": ["name", "volume_in_ccm"],
    },
    "Suspension": {
        "type": "object",
        "properties": {
            "name": _NAME,
            "liquid": _NAME,
            "solid": _NAME,
            "volume_in_ccm": _AMOUNT,
            "weight_in_g": _OPTIONAL_AMOUNT,
            "density_in_gccm": _OPTIONAL_AMOUNT,
        },
        "required": ["name", "liquid", "solid", "volume_in_ccm"],
    },
}

# The DRF field class the original's serializers used for a JSON type (and string format).
STRING_FORMATS = {
    "date": "DateField",
    "date-time": "DateTimeField",
    "time": "TimeField",
    "email": "EmailField",
    "uri": "URLField",
    "uuid": "UUIDField",
}
JSON_TYPES = {
    "number": "FloatField",
    "integer": "IntegerField",
    "boolean": "BooleanField",
    "array": "ListField",
    "object": "DictField",
}


class SampleInfoInvalid(ValueError):
    """A ``sample_info`` document that does not match its type: ``messages`` name the fields."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def schema_text(schema: dict) -> str:
    """A schema as it is stored: indented JSON, keys in their order."""
    return json.dumps(schema, indent=2, ensure_ascii=False)


def schema_load(text: str) -> dict:
    """A stored schema's JSON text as a dict, ``properties`` in their order."""
    return json.loads(text)


def _types(prop: dict) -> list[str]:
    value = prop.get("type", [])
    return [value] if isinstance(value, str) else list(value)


def schema_check(text: str) -> dict:
    """The schema in ``text``, or ``ValueError`` saying what is wrong with it."""
    if len(text) > SCHEMA_MAX_LENGTH:
        raise ValueError(f"The schema is longer than {SCHEMA_MAX_LENGTH} characters.")
    try:
        schema = schema_load(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"The schema is not valid JSON: {exc}.") from exc
    if not isinstance(schema, dict):
        raise ValueError("The schema must be a JSON object.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"Not a valid JSON Schema: {exc.message}.") from exc
    if schema.get("type") != "object":
        raise ValueError('The schema must describe an object: "type": "object".')
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        raise ValueError('The schema must list the fields under "properties".')
    for name, prop in properties.items():
        if not isinstance(prop, dict):
            raise ValueError(f"The field {name!r} must be described by an object.")
    missing = [name for name in schema.get("required", []) if name not in properties]
    if missing:
        raise ValueError(f'"required" names fields that are not in "properties": {missing}.')
    return schema


def drf_field_type(prop: dict) -> str:
    """The DRF field class name the original would have shown for a property."""
    types = [t for t in _types(prop) if t != "null"]
    if "enum" in prop:
        return "ChoiceField"
    if len(types) != 1:
        return "JSONField"
    if types[0] == "string":
        return STRING_FORMATS.get(prop.get("format", ""), "CharField")
    return JSON_TYPES.get(types[0], "JSONField")


def sample_type_info(schema: dict) -> dict[str, dict]:
    """The original's description of a sample type's fields (see the module's docstring)."""
    required = set(schema.get("required", []))
    return {
        name: {
            "type": drf_field_type(prop),
            "help_text": str(prop.get("description", "")),
            "required": name in required,
            "allow_null": "null" in _types(prop),
        }
        for name, prop in schema["properties"].items()
    }


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _accepts(prop: dict, value) -> bool:
    return _validator(prop).is_valid(value)


def _normalized(schema: dict, document: dict) -> dict:
    """Empty strings of optional fields as null (or absent), numbers written as strings as
    numbers; everything else as it is."""
    required = set(schema.get("required", []))
    result = dict(document)
    for name, prop in schema["properties"].items():
        if name not in result:
            continue
        value = result[name]
        if not isinstance(value, str):
            continue
        types = _types(prop)
        if value == "" and name not in required and not _accepts(prop, ""):
            if "null" in types:
                result[name] = None
            else:
                del result[name]
            continue
        if ("number" in types or "integer" in types) and "string" not in types:
            try:
                number = float(value.strip())
            except ValueError:
                continue
            if math.isfinite(number):
                if "integer" in types and number.is_integer():
                    result[name] = int(number)
                elif "number" in types:
                    result[name] = number
    return result


def sample_info_validate(schema: dict, document: Any) -> dict:
    """``document`` checked against ``schema``: the normalized document, or
    ``SampleInfoInvalid`` with one message per problem, each naming its field."""
    if not isinstance(document, dict):
        raise SampleInfoInvalid(["The file must hold a JSON object of the sample's fields."])
    document = _normalized(schema, document)
    validator = _validator(schema)
    messages: list[str] = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(part) for part in error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            prefix = f"{path}." if path else ""
            for name in error.validator_value:
                message = f"{prefix}{name}: This field is required."
                if name not in error.instance and message not in messages:
                    messages.append(message)
        else:
            messages.append(f"{path or '(document)'}: {error.message}")
    if messages:
        raise SampleInfoInvalid(messages)
    return document
