"""What the casework API modules share that is casework's own: the ``kind`` choice, a team named in
input, the ``version`` of an edit, and the small serializers of owners and people.

The plumbing is the floor's (``concord.api``): every class subclasses ``BaseApi`` (a verified
user, writes by writers only, escaped JSON), validates with ``valid``, pages with ``paginated``
or ``CountedPagination``. Thin views (HackSoft style): parse input with a nested
``InputSerializer``, call one selector or service, serialise with a nested ``OutputSerializer``.
What the user may see is decided by the selectors (``access_*`` give one 404 for "missing" and
"not yours"); services refuse writes (403) and raise domain errors (``concord.errors``), mapped
once by ``concord.api.exception_handler``: a stale ``version`` answers 409
``changed_since_opened``, storage down 503 ``storage_unavailable``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers

from concord.api import ChoiceField, valid
from tenant_apps.directory import selectors as directory


def kind_field(choices, **kwargs) -> ChoiceField:
    """A ``kind`` choice documented as a pattern: profiles and entries both have a ``kind`` with
    different choices, and drf-spectacular would give them colliding ``KindEnum`` components
    (a warning that ``check --deploy`` fails on)."""
    values = [value for value, _ in choices]

    @extend_schema_field({"type": "string", "pattern": f"^({'|'.join(values)})$", "description": ", ".join(values)})
    class KindField(ChoiceField):
        pass

    return KindField(choices=choices, **kwargs)


def team_named(team_id, *, field: str):
    """The team named by id in input (None for none), or a 400 on ``field``."""
    if team_id is None:
        return None
    team = directory.team_by_id(team_id)
    if team is None:
        raise DjangoValidationError({field: ["Unknown team."]})
    return team


STORAGE_UNAVAILABLE_ANSWER = OpenApiResponse(
    response={"$ref": "#/components/schemas/Error"},
    description="Files cannot be stored at the moment (storage_unavailable), or cannot be scanned for malware "
    "(scanner_unavailable: never stored unscanned); nothing was saved.",
)  # documented by the operations that store files; the Error component is concord.api's

VERSION_HELP = "The version you opened; if someone saved since, the answer is 409 changed_since_opened."
VERSION_PARAMETER = OpenApiParameter("version", int, required=True, description=VERSION_HELP)


class VersionInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)

    class Meta:
        ref_name = "VersionInput"


def version_of(request) -> int:
    """The ``version`` of a DELETE's query."""
    return valid(VersionInput, request.query_params)["version"]


class Ref(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()

    class Meta:
        ref_name = "CaseworkRef"


class Person(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()

    class Meta:
        ref_name = "CaseworkPerson"
