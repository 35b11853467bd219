"""OpenAPI documents of one API alone, with that API's own component names.

The platform's document (``/api/schema/``) holds every API; component names that could clash
between apps carry the app's prefix there (DMLF's ``Project`` is ``DMLFProject`` beside
BatteryDB's ``Project``: ``extend_schema_serializer(component_name=...)`` on the serializer). An
app that publishes its own document, as DMLF does at ``/dmlf/api/schema/``, includes
:func:`api_schema_urls` in its URLconf (inside its namespace): the schema of the paths under its
prefix only, with the prefix taken off its component names (``DMLFProject`` becomes
``Project``, as the original API names it), and Swagger UI and Redoc on it, under the same
Content-Security-Policy as the platform's docs (``core.csp``).
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from core import csp
from core.openapi import API_TAGS_EXTENSION


def select_api(document: dict, *, prefix: str, component_prefix: str = "") -> dict:
    """The platform's OpenAPI ``document`` cut down to the paths under ``prefix`` and the
    components they use, with ``component_prefix`` taken off component names (unless the short
    name is taken) and the operations' own tags (``x-api-tags``) instead of the API's."""
    paths = {
        key: value for key, value in document.get("paths", {}).items() if key.startswith(prefix)
    }
    for operations in paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and API_TAGS_EXTENSION in operation:
                operation["tags"] = operation.pop(API_TAGS_EXTENSION)
    components = dict(document.get("components", {}))
    schemas = components.get("schemas", {})
    used: set[str] = set()
    pending = _refs_in(paths)
    while pending:
        name = pending.pop()
        if name in used or name not in schemas:
            continue
        used.add(name)
        pending |= _refs_in(schemas[name])
    kept = {name: schemas[name] for name in sorted(used)}
    renames = {}
    for name in kept:
        short = _short_name(name, component_prefix)
        if short != name and short and short not in kept:
            renames[name] = short
    base = "#/components/schemas/"
    refs = {base + old: base + new for old, new in renames.items()}
    components["schemas"] = {renames.get(name, name): value for name, value in kept.items()}
    result = {**document, "paths": paths, "components": components}
    _rename_refs(result, refs)
    return result


def _short_name(name: str, component_prefix: str) -> str:
    """``name`` without ``component_prefix``, also after drf-spectacular's ``Patched``
    (``PatchedDMLFSample`` becomes ``PatchedSample``)."""
    if not component_prefix:
        return name
    for lead in ("", "Patched"):
        if name.startswith(lead + component_prefix):
            return lead + name[len(lead) + len(component_prefix) :]
    return name


def _refs_in(node) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                found.add(ref.rsplit("/", 1)[1])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _rename_refs(node, refs: dict[str, str]) -> None:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref in refs:
                item["$ref"] = refs[ref]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class APISchemaView(SpectacularAPIView):
    """The OpenAPI document of one API (see :func:`select_api`)."""

    api_prefix = ""
    component_prefix = ""

    def _get_schema_response(self, request):
        response = super()._get_schema_response(request)
        response.data = select_api(
            response.data, prefix=self.api_prefix, component_prefix=self.component_prefix
        )
        return response


def api_schema_urls(
    *,
    namespace: str,
    prefix: str,
    title: str,
    description: str = "",
    component_prefix: str = "",
    route: str = "api/schema/",
    settings: dict | None = None,
) -> list:
    """The URL patterns of one API's own OpenAPI document and its docs: ``<route>`` (named
    ``schema``), ``<route>swagger-ui/`` (``swagger-ui``) and ``<route>redoc/`` (``redoc``),
    to include in the app's URLconf whose namespace is ``namespace`` (``dmlf:schema``).
    ``settings`` are further drf-spectacular settings of this document alone."""
    schema_view = APISchemaView.as_view(
        api_prefix=prefix,
        component_prefix=component_prefix,
        custom_settings={"TITLE": title, "DESCRIPTION": description, **(settings or {})},
    )
    schema_name = f"{namespace}:schema"
    return [
        path(route, schema_view, name="schema"),
        path(
            f"{route}swagger-ui/",
            csp_update(csp.SWAGGER_UI)(
                SpectacularSwaggerSplitView.as_view(
                    url_name=schema_name, template_name="core/docs/swagger_ui.html", title=title
                )
            ),
            name="swagger-ui",
        ),
        path(
            f"{route}redoc/",
            csp_update(csp.REDOC)(
                SpectacularRedocView.as_view(
                    url_name=schema_name, template_name="core/docs/redoc.html", title=title
                )
            ),
            name="redoc",
        ),
    ]
