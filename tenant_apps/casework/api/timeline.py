"""The API of the timeline: a case's or a profile's entries, recording one (with attachments),
reading, changing and deleting one."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from concord.api import BaseApi, ChoiceField, CountedPagination, DateTimeField, IdField, Pagination, page_of, valid
from concord.api.parsers import JSONParser
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api.base import STORAGE_UNAVAILABLE_ANSWER, VERSION_HELP, Person, kind_field, team_named
from tenant_apps.casework.forms.documents import MAX_ATTACHMENTS
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.casework.models import TimelineEntry

__all__ = ["CaseTimelineApi", "EntryDeleteApi", "EntryDetailApi", "EntryOutput", "ProfileTimelineApi"]

ENTRY_CREATE_DOC = (
    "A JSON body records the entry; a multipart/form-data body (the same fields, lists as repeated fields) may "
    "also carry ``attachments``: files stored with the entry, all or nothing (a refused file: 400 naming "
    "attachments; storage down: 503 storage_unavailable; nothing saved either way)."
)

_DATETIME = DateTimeField()  # one field for every entry's dates (building one costs more than using it)


def _listed(entry, attribute: str, relation: str) -> list[int]:
    """Sorted ids of the entry's teams or profiles: read with the page (``_timeline_page``), or else now."""
    ids = getattr(entry, attribute, None)
    return ids if ids is not None else sorted(obj.pk for obj in getattr(entry, relation).all())


def _recorder_full_name(entry) -> str:
    """Listed entries carry the recorder's name as a column (``selectors.timeline``); others their user."""
    name = getattr(entry, "recorder_full_name", None)
    return name if name is not None else entry.recorded_by.full_name


class EntryOutput(serializers.Serializer):
    """A readable entry in full; an entry the user may not read as ``{id, kind, occurred_at, restricted}``."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    restricted = serializers.BooleanField(help_text="True: a sensitive entry you may not read; only id, kind, "
                                          "occurred_at are given.")  # fmt: skip
    action = serializers.CharField(required=False)
    summary = serializers.CharField(required=False)
    body = serializers.CharField(required=False)
    attendees = serializers.CharField(required=False)
    is_sensitive = serializers.BooleanField(required=False)
    restricted_to_teams = serializers.ListField(child=serializers.IntegerField(), required=False)
    case_id = serializers.IntegerField(allow_null=True, required=False)
    profiles = serializers.ListField(child=serializers.IntegerField(), required=False)
    recorded_by = Person(required=False)
    recorded_at = serializers.DateTimeField(required=False)
    version = serializers.IntegerField(required=False)

    class Meta:
        ref_name = "TimelineEntry"

    def to_representation(self, entry):
        occurred_at = _DATETIME.to_representation(entry.occurred_at)
        if not getattr(entry, "can_read", True):
            return {"id": entry.pk, "kind": entry.kind, "occurred_at": occurred_at, "restricted": True}
        return {
            "id": entry.pk,
            "kind": entry.kind,
            "occurred_at": occurred_at,
            "restricted": False,
            "action": entry.action,
            "summary": entry.summary,
            "body": entry.body,
            "attendees": entry.attendees,
            "is_sensitive": entry.is_sensitive,
            "restricted_to_teams": _listed(entry, "listed_team_ids", "restricted_to_teams"),
            "case_id": entry.case_id,
            "profiles": _listed(entry, "listed_profile_ids", "profiles"),
            "recorded_by": {"id": entry.recorded_by_id, "full_name": _recorder_full_name(entry)},
            "recorded_at": _DATETIME.to_representation(entry.recorded_at),
            "version": entry.version,
        }


TIMELINE_PAGE = page_of(EntryOutput, "PaginatedTimeline")


def _timeline_page(request, view, entries, *, count: int | None = None):
    """A page of entries with their teams' and profiles' ids (``count``: how many entries there
    are, when it is known more cheaply than by counting ``entries``)."""
    paginator = Pagination() if count is None else CountedPagination(count)
    page = paginator.paginate_queryset(entries, request, view=view)
    if page:
        selectors.set_listed_ids(page)
    return paginator.get_paginated_response(EntryOutput(page, many=True).data)


class EntryCreateInput(serializers.Serializer):
    kind = kind_field(TimelineEntry.Kind.choices)
    action = ChoiceField(choices=TimelineEntry.Action.choices, required=False, allow_blank=True, default="")
    occurred_at = DateTimeField()
    summary = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    attendees = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    is_sensitive = serializers.BooleanField(required=False, default=False)
    restricted_to_teams = serializers.ListField(child=IdField(), required=False, default=list, max_length=50)
    profiles = serializers.ListField(
        child=IdField(), required=False, default=list, max_length=100,
        help_text="Who the entry is about (on a case: default, the case's subjects).",
    )  # fmt: skip

    class Meta:
        ref_name = "TimelineEntryCreateInput"


class EntryCreateUploadInput(EntryCreateInput):
    """The entry create's multipart body: the same fields, and files stored with the entry."""

    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=MAX_ATTACHMENTS,
        help_text="Files stored with the entry, all or nothing: checked by their content (images are cleaned of "
                  "metadata). A refused file answers 400 naming attachments; storage down answers 503; either way "
                  "nothing is saved.",
    )  # fmt: skip

    class Meta:
        ref_name = "TimelineEntryCreateUploadInput"


ENTRY_CREATE_BODY = {"application/json": EntryCreateInput, "multipart/form-data": EntryCreateUploadInput}
# The entry create takes JSON, or multipart when it carries files (never a form-encoded body).
ENTRY_CREATE_PARSERS = [JSONParser, MultiPartParser]
ENTRY_CREATE_ANSWERS = {201: EntryOutput, 503: STORAGE_UNAVAILABLE_ANSWER}


def _entry_create(request, *, case=None, profile=None):
    return api_create_once(request, lambda: _entry_create_now(request, case=case, profile=profile))


def _entry_create_now(request, *, case=None, profile=None):
    upload = (request.content_type or "").startswith("multipart/form-data")
    data = valid(EntryCreateUploadInput if upload else EntryCreateInput, request.data)
    ids = data.pop("profiles")
    if profile is not None and profile.pk not in ids:
        ids = [profile.pk, *ids]
    profiles = selectors.profiles_named(user=request.user, ids=ids, field="profiles")
    teams = [
        team_named(team_id, field="restricted_to_teams") for team_id in dict.fromkeys(data.pop("restricted_to_teams"))
    ]
    entry = services.entry_create(
        user=request.user, request=request, case=case, profiles=profiles, restricted_to_teams=teams, **data
    )
    return Response(EntryOutput(entry).data, status=status.HTTP_201_CREATED)


TIMELINE_DOC = (
    "Newest first, 50 per page. Sensitive entries you may not read are listed without their content. "
    "``kind`` lists only entries of that kind (an entry you may not read is listed under its kind)."
)


class TimelineQuery(serializers.Serializer):
    """The query of a timeline's GET (validated: an unknown kind is a 400 naming ``kind``)."""

    kind = ChoiceField(choices=TimelineEntry.Kind.choices, required=False, allow_blank=True, default="")


TIMELINE_PARAMETERS = [OpenApiParameter("page", int), OpenApiParameter("kind", str, enum=TimelineEntry.Kind.values)]


class CaseTimelineApi(BaseApi):
    api_area = "timeline"
    parser_classes = ENTRY_CREATE_PARSERS
    FilterSerializer = TimelineQuery  # GET's ?kind=
    InputSerializer = EntryCreateInput  # POST (JSON; multipart: EntryCreateUploadInput)
    OutputSerializer = EntryOutput

    @extend_schema(
        operation_id="cases_timeline",
        description=TIMELINE_DOC,
        parameters=TIMELINE_PARAMETERS,
        responses=TIMELINE_PAGE,
    )
    def get(self, request, case_id):
        case = selectors.access_case(user=request.user, case_id=case_id)
        kind = valid(self.FilterSerializer, request.query_params)["kind"]
        services.record_viewed(user=request.user, request=request, record=case, what="timeline")
        entries = selectors.timeline_for_case(user=request.user, case=case, kind=kind)
        return _timeline_page(request, self, entries, count=selectors.live_entry_count(case, kind=kind))

    @extend_schema(
        operation_id="cases_timeline_add",
        parameters=[IDEMPOTENCY_PARAMETER],
        description=ENTRY_CREATE_DOC,
        request=ENTRY_CREATE_BODY,
        responses=ENTRY_CREATE_ANSWERS,
    )
    def post(self, request, case_id):
        case = selectors.access_case(user=request.user, case_id=case_id)
        return _entry_create(request, case=case)


class ProfileTimelineApi(BaseApi):
    api_area = "timeline"
    parser_classes = ENTRY_CREATE_PARSERS
    FilterSerializer = TimelineQuery  # GET's ?kind=
    InputSerializer = EntryCreateInput  # POST (JSON; multipart: EntryCreateUploadInput)
    OutputSerializer = EntryOutput

    @extend_schema(
        operation_id="profiles_timeline",
        description=TIMELINE_DOC + " Entries of cases you may not see are left out.",
        parameters=TIMELINE_PARAMETERS,
        responses=TIMELINE_PAGE,
    )
    def get(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        kind = valid(self.FilterSerializer, request.query_params)["kind"]
        services.record_viewed(user=request.user, request=request, record=profile, what="timeline")
        entries = selectors.timeline_for_profile(user=request.user, profile=profile, kind=kind)
        return _timeline_page(request, self, entries)

    @extend_schema(
        operation_id="profiles_timeline_add",
        parameters=[IDEMPOTENCY_PARAMETER],
        description="Record work about this profile (and any others named), on no case. " + ENTRY_CREATE_DOC,
        request=ENTRY_CREATE_BODY,
        responses=ENTRY_CREATE_ANSWERS,
    )
    def post(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        return _entry_create(request, profile=profile)


class EntryDetailApi(BaseApi):
    api_area = "timeline"

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        kind = kind_field(TimelineEntry.Kind.choices, required=False)
        action = ChoiceField(choices=TimelineEntry.Action.choices, required=False, allow_blank=True)
        occurred_at = DateTimeField(required=False)
        summary = serializers.CharField(max_length=200, required=False)
        body = serializers.CharField(max_length=20000, required=False, allow_blank=True)
        attendees = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        class Meta:
            ref_name = "TimelineEntryUpdateInput"

    @extend_schema(operation_id="entries_retrieve", responses=EntryOutput)
    def get(self, request, entry_id):
        entry = selectors.access_entry(user=request.user, entry_id=entry_id)
        services.record_viewed(user=request.user, request=request, record=entry)
        return Response(EntryOutput(entry).data)

    @extend_schema(operation_id="entries_update", request=InputSerializer, responses=EntryOutput)
    def patch(self, request, entry_id):
        entry = selectors.access_entry(user=request.user, entry_id=entry_id, edit=True, forbid=True)
        changes = valid(self.InputSerializer, request.data)
        entry = services.entry_update(user=request.user, request=request, entry=entry, **changes)
        return Response(EntryOutput(entry).data)


class EntryDeleteApi(BaseApi):
    api_area = "timeline"

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        reason = serializers.CharField(max_length=300)

        class Meta:
            ref_name = "TimelineEntryDeleteInput"

    @extend_schema(
        operation_id="entries_delete",
        description="Remove the entry from the timeline; its content is kept as history.",
        request=InputSerializer,
        responses={204: None},
    )
    def post(self, request, entry_id):
        entry = selectors.access_entry(user=request.user, entry_id=entry_id, edit=True, forbid=True)
        data = valid(self.InputSerializer, request.data)
        services.entry_delete(user=request.user, request=request, entry=entry, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)
