"""Validation of passport bodies against the BatteryPass definitions, JSON paths, and the
definitions as OpenAPI components.

``jsonschema`` validates a body against ``passport.definitions`` and reports every problem of
it at once, each keyed by its JSON path (``hasCellChemistryProperties.cathodeActiveMaterials[2]
.materialWeight``); the same definitions are the ``Passport...`` components of the OpenAPI
document.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from jsonschema import Draft202012Validator

from passport.definitions import (
    COMPONENT_PREFIX,
    DEFINITIONS,
    ELECTROCHEMICAL,
    ELECTROCHEMICAL_ALIAS,
    ID_FIELD,
    ID_MAX_LENGTH,
    ID_PATTERN,
    MAX_NUMBER,
)

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$ref": "#/$defs/BatteryPass",
    "$defs": DEFINITIONS,
}
Draft202012Validator.check_schema(SCHEMA)
# Formats are checked too: ``datePlacedOnMarket`` is a real day ("double" is only a note).
_VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


# --- JSON paths ------------------------------------------------------------------------------
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(parts) -> str:
    """``["a", "b", 2, "c"]`` as ``a.b[2].c``; a key that is not an identifier is quoted
    (``a["x.y"]``), so that every path reads back to one place."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            quoted = '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
            text += f"[{quoted}]"
    return text


_PART = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def path_parts(text: str) -> list:
    """The keys and indexes of a path :func:`json_path` wrote (its inverse)."""
    parts: list = []
    position = 0
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            raise ValueError(f"Not a JSON path: {text!r}")
        name, index, quoted = match.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(re.sub(r"\\(.)", r"\1", quoted))
        position = match.end()
    return parts


# --- validation ------------------------------------------------------------------------------
_TYPE_NAMES = {
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "object": "an object",
    "array": "an array",
}
_JSON_TYPE_OF = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}

ID_MESSAGE = (
    f"Must be 1 to {ID_MAX_LENGTH} characters of A-Z a-z 0-9 . _ ~ : - (and not '.' or '..')."
)


def _messages(error) -> list[tuple[list, str]]:
    """``(path parts, message)`` for one ``jsonschema`` error."""
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "type":
        expected = _TYPE_NAMES.get(error.validator_value, error.validator_value)
        got = _JSON_TYPE_OF.get(type(error.instance), "something else")
        return [(path, f"Must be {expected}, not {got}.")]
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        return [([*path, key], "Unknown field.") for key in error.instance if key not in known]
    if kind == "minimum":
        return [(path, f"Must be at least {error.validator_value}.")]
    if kind == "maximum":
        return [(path, f"Must be at most {error.validator_value}.")]
    if path and path[-1] == ID_FIELD and kind in {"minLength", "maxLength", "pattern"}:
        return [(path, ID_MESSAGE)]
    if kind == "maxLength":
        return [(path, f"Must be at most {error.validator_value} characters.")]
    if kind == "minLength":
        return [(path, "Must not be empty.")]
    if kind == "format" and error.validator_value == "date":
        return [(path, "Must be a date (YYYY-MM-DD) that exists.")]
    if kind == "pattern":
        return [(path, f"Must match the pattern {error.validator_value}.")]
    if kind == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return [([*path, name], "This field is required.") for name in missing]
    return [(path, error.message)]


NUMBER_MESSAGE = f"Must be between -{MAX_NUMBER} and {MAX_NUMBER}."


def out_of_range_numbers(value: Any) -> list[list]:
    """The paths of the numbers beyond ±``MAX_NUMBER`` anywhere in ``value`` (the keys kept
    in partly known objects included), found without recursion."""
    found = []
    stack: list[tuple[Any, list]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((child, [*path, key]) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, [*path, index]) for index, child in enumerate(item))
        elif isinstance(item, int | float) and not isinstance(item, bool):
            found.extend([path] if not -MAX_NUMBER <= item <= MAX_NUMBER else [])
    return found


def document_errors(document: Any) -> dict[str, list[str]]:
    """Every problem of ``document`` (a whole BatteryPass) as ``{json path: [messages]}``;
    empty when it is valid. The document as a whole, when it is not an object, is ``""``."""
    errors: dict[str, list[str]] = {}
    for error in _VALIDATOR.iter_errors(document):
        for path, message in _messages(error):
            errors.setdefault(json_path(path), []).append(message)
    for path in out_of_range_numbers(document):
        errors.setdefault(json_path(path), [NUMBER_MESSAGE])
    identifier = document.get(ID_FIELD) if isinstance(document, dict) else None
    if isinstance(identifier, str) and identifier in {".", ".."} and ID_FIELD not in errors:
        # URLs resolve these as path segments: a passport with such an id could not be reached.
        errors[ID_FIELD] = [ID_MESSAGE]
    return dict(sorted(errors.items()))


def valid_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value)) and value not in {".", ".."}


# --- the OpenAPI components ------------------------------------------------------------------
def component_name(name: str) -> str:
    return f"{COMPONENT_PREFIX}{name}"


def _openapi(schema: Any) -> Any:
    """A definition in OpenAPI 3.0 form: references to ``#/components/schemas/Passport...``."""
    if isinstance(schema, dict):
        result = {}
        for key, value in schema.items():
            if key == "$ref":
                result[key] = "#/components/schemas/" + component_name(value.rsplit("/", 1)[-1])
            else:
                result[key] = _openapi(value)
        return result
    if isinstance(schema, list):
        return [_openapi(item) for item in schema]
    return schema


def openapi_components() -> dict[str, dict]:
    """Every definition as an OpenAPI component, by its prefixed name. The passport itself also
    documents what input accepts and answers carry beyond the contract: ``organization`` and
    the electrochemical properties under the one-e key."""
    components = {component_name(name): _openapi(schema) for name, schema in DEFINITIONS.items()}
    passport = copy.deepcopy(components[component_name("BatteryPass")])
    properties = passport["properties"]
    properties[ELECTROCHEMICAL_ALIAS] = {
        "allOf": [{"$ref": f"#/components/schemas/{component_name('ElectrochemicalProperties')}"}],
        "description": (
            f"The same object as `{ELECTROCHEMICAL}`, under the spelling with one e: accepted "
            "on input (send one of the two, or both equal) and answered beside it."
        ),
    }
    properties["organization"] = {
        "type": "integer",
        "minimum": 1,
        "description": (
            "The id of the owning organization. On create, optional when you belong to exactly "
            "one organization; it never changes afterwards. Answered as one extra key."
        ),
    }
    components[component_name("BatteryPass")] = passport
    return components
