"""The API's reference page (``/api/docs/``): the OpenAPI schema drf-spectacular generates (the one
``/api/schema/`` serves), rendered on the server in the house frame with GOV.UK components.

It replaces Swagger UI, which failed axe (contrast, no ``lang``, nested interactive controls) and
needed an inline style the Content-Security-Policy refuses. Every operation is listed (method,
path, description, parameters, request and response bodies, who may call it), every security
scheme of ``components.securitySchemes`` whatever its type, and every component schema once, with
its fields; bodies link to their schema. Who may read it: as ``/api/schema/``, anyone signed in to
the partnership with their second factor (``accounts.access``: no mark, so the full sign-in).

``api_reference(schema)`` turns a schema (a dict) into the page's dataclasses; ``api_docs`` is the view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.shortcuts import render
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from drf_spectacular.settings import spectacular_settings
from rest_framework.request import Request

__all__ = ["ApiReference", "api_docs", "api_reference"]

METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
METHOD_TAGS = {"get": "blue", "post": "green", "put": "yellow", "patch": "yellow", "delete": "red"}
NESTING = 4  # how deep a field's own fields are listed (``error.fields``)


@dataclass(frozen=True)
class Row:
    key: str
    value: SafeString


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    method_colour: str
    path: str
    summary: str
    description: SafeString
    security: SafeString
    parameters: list[Row]
    request: list[Row]
    responses: list[Row]
    deprecated: bool


@dataclass(frozen=True)
class Group:
    anchor: str
    name: str
    operations: list[Operation]


@dataclass(frozen=True)
class Component:
    anchor: str
    name: str
    description: SafeString
    summary: SafeString
    fields: list[Row]


@dataclass(frozen=True)
class ApiReference:
    title: str
    version: str
    description: SafeString
    security_schemes: list[Component] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    schemas: list[Component] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def _prose(text: str | None) -> SafeString:
    """Schema text: escaped, ````code```` (reStructuredText, as the docstrings write it) and
    ``code`` (Markdown) shown as code."""
    escaped = str(escape(text or ""))
    escaped = re.sub(r"``([^`]+)``", r"<code>\1</code>", escaped)
    escaped = re.sub(r"(?<![`>])`([^`<]+)`", r"<code>\1</code>", escaped)
    return mark_safe(escaped)  # noqa: S308 - escaped above; only <code> added


def _join(separator: str, parts) -> SafeString:
    """``parts`` joined by ``separator``, each escaped unless it is already safe."""
    return format_html_join(separator, "{}", ((part,) for part in parts))


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _ref_link(ref: str) -> SafeString:
    name = _ref_name(ref)
    return format_html('<a class="govuk-link" href="#schema-{}">{}</a>', _slug(name), name)


def _type_of(schema: dict) -> SafeString:
    """A schema's type in words, its references linked to their component."""
    if not isinstance(schema, dict) or not schema:
        return escape("any value")
    if "$ref" in schema:
        return _ref_link(schema["$ref"])
    for combinator, joiner in (("allOf", " and "), ("oneOf", " or "), ("anyOf", " or ")):
        if combinator in schema:
            return _join(joiner, [_type_of(part) for part in schema[combinator]])
    kind = schema.get("type", "any value")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        return format_html("array of {}", _type_of(schema.get("items", {})))
    if schema.get("format"):
        return format_html("{} ({})", kind, schema["format"])
    return format_html("{}", kind)


def _constraints(schema: dict) -> list[str]:
    said = []
    if schema.get("enum"):
        said.append("one of " + ", ".join(str(value) for value in schema["enum"] if value not in ("", None)))
    limits = (("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
              ("minimum", "at least {}"), ("maximum", "at most {}"), ("minItems", "at least {} items"),
              ("maxItems", "at most {} items"), ("pattern", "matching {}"), ("default", "default {}"))  # fmt: skip
    for key, words in limits:
        if key in schema:
            value = schema[key]
            said.append(words.format(f"“{value}”" if key in ("default", "pattern") and isinstance(value, str)
                                     else value))  # fmt: skip
    return said


def _describe(schema: dict, *, required: bool | None = None) -> SafeString:
    """One value: its type, whether it is required, read-only or nullable, its limits and text."""
    words = [_type_of(schema)]
    if required is not None:
        words.append(escape("required" if required else "optional"))
    for key, said in (("readOnly", "read-only"), ("writeOnly", "write-only"), ("nullable", "may be null"),
                      ("deprecated", "deprecated")):  # fmt: skip
        if schema.get(key):
            words.append(escape(said))
    words.extend(escape(said) for said in _constraints(schema))
    text = _join(", ", words)
    if schema.get("description"):
        return format_html("{}. {}", text, _prose(schema["description"]))
    return text


def _fields(schema: dict, *, prefix: str = "", depth: int = 0) -> list[Row]:
    """An object's fields, by dotted name, nested objects' fields after their own row."""
    rows = []
    required = set(schema.get("required", []))
    for name, value in schema.get("properties", {}).items():
        rows.append(Row(prefix + name, _describe(value, required=name in required)))
        if depth < NESTING:
            if value.get("properties"):
                rows.extend(_fields(value, prefix=f"{prefix}{name}.", depth=depth + 1))
            elif value.get("type") == "array" and value.get("items", {}).get("properties"):
                rows.extend(_fields(value["items"], prefix=f"{prefix}{name}[].", depth=depth + 1))
    if isinstance(schema.get("additionalProperties"), dict):
        rows.append(Row(f"{prefix}(any name)", _describe(schema["additionalProperties"])))
    return rows


def _bodies(content: dict) -> list[Row]:
    return [Row(media_type, _describe(body.get("schema", {}))) for media_type, body in (content or {}).items()]


def _security(requirements: list[dict] | None) -> SafeString:
    """Who may call an operation: each requirement (schemes together) is one way in."""
    if requirements is None:
        return escape("Not stated")
    if requirements == [] or all(not requirement for requirement in requirements):
        return escape("No sign-in needed")
    ways = []
    for requirement in requirements:
        if not requirement:
            ways.append(escape("no sign-in"))
            continue
        parts = []
        for name, scopes in requirement.items():
            link = format_html('<a class="govuk-link" href="#security-{}">{}</a>', _slug(name), name)
            parts.append(format_html("{} (scopes: {})", link, ", ".join(scopes)) if scopes else link)
        ways.append(_join(" and ", parts))
    return _join(" or ", ways)


def _security_scheme(name: str, scheme: dict) -> Component:
    """Any security scheme, by what it holds: apiKey, http, oauth2 (each flow, its URLs and scopes),
    openIdConnect, mutualTLS, or a type this page does not know yet (its fields as given)."""
    labels = {"type": "Type", "in": "Sent in", "name": "Name", "scheme": "HTTP scheme",
              "bearerFormat": "Bearer format", "openIdConnectUrl": "OpenID Connect URL"}  # fmt: skip
    rows = [Row(label, format_html("{}", scheme[key])) for key, label in labels.items() if key in scheme]
    for flow_name, flow in (scheme.get("flows") or {}).items():
        for key in ("authorizationUrl", "tokenUrl", "refreshUrl"):
            if key in flow:
                rows.append(Row(f"{flow_name}: {key}", format_html("{}", flow[key])))
        scopes = flow.get("scopes") or {}
        if scopes:
            listed = format_html_join("; ", "<code>{}</code>: {}", ((s, d) for s, d in scopes.items()))
            rows.append(Row(f"{flow_name}: scopes", listed))
        else:
            rows.append(Row(f"{flow_name}: scopes", escape("none")))
    known = {*labels, "flows", "description"}
    rows.extend(Row(key, format_html("{}", value)) for key, value in scheme.items() if key not in known)
    return Component(anchor=f"security-{_slug(name)}", name=name, description=_prose(scheme.get("description")),
                     summary=format_html("{}", scheme.get("type", "")), fields=rows)  # fmt: skip


def _parameters(parameters: list[dict]) -> list[Row]:
    rows = []
    for parameter in parameters:
        where = {"path": "in the path", "query": "in the query", "header": "a header", "cookie": "a cookie"}
        described = _describe(parameter.get("schema", {}), required=bool(parameter.get("required")))
        text = format_html("{}, {}", where.get(parameter.get("in"), parameter.get("in", "")), described)
        if parameter.get("description"):
            text = format_html("{}. {}", text, _prose(parameter["description"]))
        rows.append(Row(parameter.get("name", ""), text))
    return rows


def _responses(responses: dict) -> list[Row]:
    rows = []
    for status, response in responses.items():
        bodies = _bodies(response.get("content"))
        text = _prose(response.get("description")) or escape("")
        listed = format_html_join("; ", "{}: {}", ((row.key, row.value) for row in bodies))
        joined = format_html("{} {}", text, format_html("Body: {}.", listed)) if bodies else text
        rows.append(Row(str(status), joined if str(joined).strip() else escape("No body.")))
    return rows


def _group_name(path: str) -> str:
    """Operations are grouped by the first word of their path after the version (``/api/v1/cases/...``:
    cases), the tags drf-spectacular gives being the version alone."""
    words = [word for word in path.strip("/").split("/") if word and not word.startswith("{")]
    if words[:1] == ["api"]:
        words = words[1:]
    if words and re.fullmatch(r"v\d+", words[0]):
        words = words[1:]
    return words[0] if words else "other"


def api_reference(schema: dict) -> ApiReference:
    """The page's content from an OpenAPI 3 schema (a dict, as drf-spectacular generates it)."""
    info = schema.get("info", {})
    components = schema.get("components", {})
    default_security = schema.get("security")
    groups: dict[str, list[Operation]] = {}
    for path, item in schema.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody") or {}
            request = _bodies(body.get("content"))
            if request and body.get("required"):
                request = [Row(row.key, format_html("{}, required", row.value)) for row in request]
            anchor = f"operation-{_slug(operation.get('operationId') or f'{method}-{path}')}"
            groups.setdefault(_group_name(path), []).append(Operation(
                anchor=anchor, method=method.upper(), method_colour=METHOD_TAGS.get(method, "grey"), path=path,
                summary=operation.get("summary", ""), description=_prose(operation.get("description")),
                security=_security(operation.get("security", default_security)),
                parameters=_parameters([*shared, *operation.get("parameters", [])]), request=request,
                responses=_responses(operation.get("responses", {})), deprecated=bool(operation.get("deprecated")),
            ))  # fmt: skip
    return ApiReference(
        title=info.get("title", "API"),
        version=str(info.get("version", "")),
        description=_prose(info.get("description")),
        security_schemes=[
            _security_scheme(name, scheme) for name, scheme in components.get("securitySchemes", {}).items()
        ],  # fmt: skip
        groups=[
            Group(anchor=f"group-{_slug(name)}", name=name, operations=operations)
            for name, operations in sorted(groups.items())
        ],  # fmt: skip
        schemas=[
            Component(
                anchor=f"schema-{_slug(name)}",
                name=name,
                description=_prose(component.get("description")),
                summary=_describe({key: value for key, value in component.items() if key != "description"}),
                fields=_fields(component),
            )
            for name, component in sorted(components.get("schemas", {}).items())
        ],  # fmt: skip
    )


def openapi_schema(request) -> dict:
    """The schema ``/api/schema/`` serves (``SpectacularAPIView``'s generator and settings)."""
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS(urlconf=None, api_version=None, patterns=None)
    return generator.get_schema(request=Request(request), public=spectacular_settings.SERVE_PUBLIC)


@require_GET
def api_docs(request):
    """The API reference, for anyone signed in with their second factor (no access mark)."""
    return render(request, "api/docs.html", {"api": api_reference(openapi_schema(request))})
