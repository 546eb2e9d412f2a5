"""The OpenAPI schema: the one ``Error`` shape documented on every operation, and a page of results.

``document_error_responses`` is a drf-spectacular postprocessing hook
(``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``).
"""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from concord.api.idempotency import IDEMPOTENCY_HEADER


def page_of(serializer_class, name: str):
    """The schema of a page of results (``PageNumberPagination``'s answer)."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of the API.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, repeated."},
                "code": {
                    "type": "string",
                    "description": "invalid, not_authenticated, authentication_failed, permission_denied, "
                    "scope_missing, not_found, changed_since_opened, parse_error, throttled, read_limited ...",
                },
                "message": {"type": "string"},
                "reference": {
                    "type": "string",
                    "description": "500 server_error only: a short random reference (ABCD-EF23) to quote to support.",
                },
                "fields": {
                    "type": "object",
                    "description": "400 invalid only: the messages for each field by name (non_field_errors for "
                    "the request as a whole); a list's or a nested object's messages by index or name.",
                    "additionalProperties": {
                        "anyOf": [
                            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                            {"type": "object"},
                        ]
                    },
                },
            },
        }
    },
}
ERROR_ANSWERS = {
    "400": "Invalid input: ``fields`` names each field and what is wrong with it.",
    "401": "An API client's token that is malformed, unknown here, expired, rotated out or revoked "
    "(``authentication_failed``).",
    "403": "Not signed in with a second factor (``not_authenticated``), not allowed (``permission_denied``), "
    "or an API client without this operation's scope (``scope_missing``).",
    "404": "No such record, or one you may not see (the same answer for both); or no such page.",
    "409": "The record changed since you opened it (``changed_since_opened``): read it again.",
    "422": "This ``Idempotency-Key`` was sent before with another request (``idempotency_key_reused``).",
    "415": "The body's Content-Type is not one this operation takes, or the body cannot be read as one.",
    "429": "Too many requests: an API client's calls (``throttled``), or a person's or the partnership's record "
    "reads, searches or downloads in a minute (``read_limited``): try again after ``Retry-After`` seconds.",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error answers of every operation, in the one
    ``Error`` shape. Every operation may answer 401 (a token), 403 and 429; 400 if it takes a body or a query
    (``page`` alone excepted); 415 if it takes a body; 404 if it names a record in its path or takes a ``page``; 409 if
    it takes the ``version`` you read; 422 if it takes an ``Idempotency-Key``. An answer a view documents
    itself is kept."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            parameters = operation.get("parameters", [])
            query = {p["name"] for p in parameters if p["in"] == "query"}
            codes = {"401", "403", "429"}
            if "requestBody" in operation or query - {"page"}:
                codes.add("400")
            if "requestBody" in operation:
                codes.add("415")
            if "page" in query or any(p["in"] == "path" for p in parameters):
                codes.add("404")
            if "version" in query or "version" in _body_fields(operation, schemas):
                codes.add("409")
            if any(p["in"] == "header" and p["name"] == IDEMPOTENCY_HEADER for p in parameters):
                codes.add("422")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(code, {"description": ERROR_ANSWERS[code], "content": error})
            operation["responses"] = dict(sorted(responses.items()))
    return result


def _body_fields(operation, schemas) -> set[str]:
    names: set[str] = set()
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        schema = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
        names.update(schema.get("properties", {}))
    return names
