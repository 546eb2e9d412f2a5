"""The body: one strict JSON parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``, the only
default), and ``refuse_unsupported_body``: a body no parser of the view takes is a 415.

DRF imports this while it defines ``APIView``: it may import no module that subclasses it.
"""

from __future__ import annotations

import json
import math

from rest_framework import exceptions, parsers

from concord.api.text import safe_text, text_problem

MAX_JSON_DEPTH = 32  # our deepest input is 3 levels (cases_create's subjects); a few more for growth
NON_FIELD = "non_field_errors"


class JSONParser(parsers.JSONParser):
    """JSON bodies, with everything no field of ours can hold refused before any serializer
    sees it: a 400 naming the top-level field (``non_field_errors`` for the body as a whole).

    Refused: text that is not UTF-8 (a lone surrogate such as ``"\\ud800"``, which the standard
    ``json`` module lets through and no renderer can encode), NUL (PostgreSQL text cannot hold
    it), nesting deeper than ``MAX_JSON_DEPTH`` (100 KB of ``[`` exhausted the stack), NaN and
    Infinity, numbers beyond a float's range (``1e999``) and integers of more than 4300 digits.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError:
            raise exceptions.ParseError(f"The body is not valid {encoding}.") from None
        try:
            data = json.loads(text)  # NaN and Infinity parse as floats, refused with their field below
        except RecursionError:
            raise exceptions.ValidationError({NON_FIELD: [_TOO_DEEP]}) from None
        except ValueError as error:
            # json's messages name a position, never the input; int's digit limit says so too
            raise exceptions.ParseError(f"JSON parse error - {safe_text(error)}") from None
        problems = _refused_in(data)
        if problems:
            raise exceptions.ValidationError(problems)
        return data


_TOO_DEEP = f"The JSON nests more than {MAX_JSON_DEPTH} levels deep."


def refuse_unsupported_body(request) -> None:
    """415 ``unsupported_media_type`` for a body of a type none of the view's parsers takes.

    Checked for every request of every ``BaseApi``, whether or not the view reads its body: DRF
    alone would answer 415 only when a view reads ``request.data``, and a multipart body whose
    stream the CSRF check already read would reach the view as an empty body instead. A request
    without a body (no ``Content-Length``, or 0) passes, whatever its ``Content-Type``.
    """
    if _content_length(request) <= 0:
        return
    if request.negotiator.select_parser(request, request.parsers) is None:
        accepted = " or ".join(dict.fromkeys(parser.media_type for parser in request.parsers))
        raise exceptions.UnsupportedMediaType(
            request.content_type, detail=f"The body must be sent as {accepted or 'nothing'}."
        )


def _content_length(request) -> int:
    meta = request.META  # as DRF reads it (Request._load_stream)
    try:
        return int(meta.get("CONTENT_LENGTH", meta.get("HTTP_CONTENT_LENGTH", 0)) or 0)
    except (TypeError, ValueError):
        return 0


def _refused_in(data) -> dict[str, list[str]]:
    """What the parser refuses in parsed JSON, by top-level field (walked without recursion)."""
    problems: dict[str, list[str]] = {}
    stack = [(data, 1, NON_FIELD)]
    while stack:
        value, depth, field = stack.pop()
        problem = None
        if depth > MAX_JSON_DEPTH:
            problem = _TOO_DEEP
        elif isinstance(value, str):
            problem = text_problem(value)
        elif isinstance(value, float) and not math.isfinite(value):
            problem = "A number must be finite (no NaN, Infinity or 1e999)."
        elif isinstance(value, dict):
            for key, item in value.items():
                name = safe_text(key).replace("\x00", "") if depth == 1 else field
                problem = problem or text_problem(key)
                stack.append((item, depth + 1, name))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, field) for item in value)
        if problem and problem not in problems.get(field, []):
            problems.setdefault(field, []).append(problem)
    return problems
