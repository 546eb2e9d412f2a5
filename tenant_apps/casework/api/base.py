"""The plumbing every casework API class shares, kept in this one place (to move onto the floor later).

Thin views (HackSoft style): parse input with a nested ``InputSerializer``, call one selector or
service, serialise with a nested ``OutputSerializer``. What the user may see is decided by the
selectors (``access_*`` give one 404 for "missing" and "not yours"); services refuse writes
(403) and raise domain errors (400), mapped by ``concord.api.exception_handler``. A stale
``version`` answers 409 with the code ``changed_since_opened``; storage down answers 503.

Every response is JSON with ``<``, ``>`` and ``&`` escaped (``\\u003c`` ...), so text a user
typed is returned as text and can never be read as markup.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from concord.api import ChoiceField
from concord.permissions import IsVerified
from tenant_apps.casework import services
from tenant_apps.casework.paging import CountedPaginator
from tenant_apps.directory import selectors as directory
from tenant_apps.documents.services import DocumentMissing, StorageUnavailable


class EscapedJSONRenderer(JSONRenderer):
    """JSON with ``<``, ``>`` and ``&`` as unicode escapes: still the same strings when parsed,
    but no stored ``<script>`` appears in the bytes, whatever a client does with them."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        body = super().render(data, accepted_media_type, renderer_context)
        return body.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")


class ChangedSinceOpenedError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "changed_since_opened"
    default_detail = services.ChangedSinceOpened.message


class StorageUnavailableError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "storage_unavailable"
    default_detail = StorageUnavailable.message


class DocumentMissingError(exceptions.APIException):
    """The document's row exists but its file is gone from storage: asking again will not help."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "document_missing"
    default_detail = DocumentMissing.message


@contextmanager
def domain_errors():
    """A stale edit (``ChangedSinceOpened`` and its kinds, like ``AlreadyMerged``: their own code
    and message) answers 409; storage down answers 503."""
    try:
        yield
    except services.ChangedSinceOpened as error:
        raise ChangedSinceOpenedError(error.message, code=error.code) from None
    except StorageUnavailable as error:
        raise StorageUnavailableError(str(error)) from None


class WritersOnly(permissions.BasePermission):
    """Viewers read; any other method is refused before input is even parsed (fails closed)."""

    message = "Viewers cannot change records."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or not request.user.is_read_only


class CaseworkAPIView(APIView):
    """The base class of every casework API class."""

    permission_classes = [IsVerified, WritersOnly]
    renderer_classes = [EscapedJSONRenderer]


class Pagination(PageNumberPagination):
    page_size = 50


class CountedPagination(Pagination):
    """The API's pages, of a list whose count is known (``paging.CountedPaginator``)."""

    def __init__(self, count: int):
        self.known_count = count

    def django_paginator_class(self, queryset, page_size):
        return CountedPaginator(queryset, page_size, count=self.known_count)


def paginated(request, view, queryset, serializer_class):
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def valid(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


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
    description="Files cannot be stored at the moment (storage_unavailable); nothing was saved.",
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
