"""The casework REST API: profiles, cases, their timelines and shares.

Thin views (HackSoft style): parse input with a nested ``InputSerializer``, call
one selector or service, serialise with a nested ``OutputSerializer``. What the
user may see is decided by the selectors (``access_*`` give one 404 for "missing"
and "not yours"); services refuse writes (403) and raise domain errors (400),
mapped by ``concord.api.exception_handler``. A stale ``version`` answers 409 with
the code ``changed_since_opened``.

Every response is JSON with ``<``, ``>`` and ``&`` escaped (``\\u003c`` ...), so
text a user typed is returned as text and can never be read as markup.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from concord.api import ChoiceField, DateField, DateTimeField, IdField, SlugRelatedField, page_of
from concord.permissions import IsVerified
from concord.sql import related_values
from tenant_apps.casework import selectors, services
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.casework.models import Case, CaseSubject, CaseType, Profile, Share, TimelineEntry
from tenant_apps.casework.paging import CountedPaginator
from tenant_apps.directory.models import Team

# --- Plumbing --------------------------------------------------------------------------------


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


@contextmanager
def _conflicts():
    try:
        yield
    except services.ChangedSinceOpened as error:  # and its kinds (``AlreadyMerged``): their own code and message
        raise ChangedSinceOpenedError(error.message, code=error.code) from None


class WritersOnly(permissions.BasePermission):
    """Viewers read; any other method is refused before input is even parsed (fails closed)."""

    message = "Viewers cannot change records."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or not request.user.is_read_only


class CaseworkAPIView(APIView):
    permission_classes = [IsVerified, WritersOnly]
    renderer_classes = [EscapedJSONRenderer]


class Pagination(PageNumberPagination):
    page_size = 50


def _paginated(request, view, queryset, serializer_class):
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _valid(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _visible_profiles(user, ids, *, field: str) -> list[Profile]:
    """Profiles named by id in input: all visible to the user, or a 400 on ``field`` (no oracle)."""
    found = selectors.profiles_visible_to(user).in_bulk(set(ids))
    if len(found) != len(set(ids)):
        raise DjangoValidationError({field: ["Unknown profile."]})
    return [found[i] for i in ids]


def _editable_entry(*, user, entry_id) -> TimelineEntry:
    """An entry the user may change: 404 if they cannot see it, 403 if they cannot edit it.

    The services check the case; this also covers entries about profiles only (the
    profiles must be editable) and sensitive entries the user may not read.
    """
    entry = selectors.access_entry(user=user, entry_id=entry_id)
    if not entry.can_read:
        raise PermissionDenied("You may not change an entry you may not read.")
    try:
        selectors.access_entry(user=user, entry_id=entry_id, edit=True)
    except Http404:
        raise PermissionDenied("You may not edit this entry.") from None
    return entry


def _kind_field(choices, **kwargs) -> ChoiceField:
    """A ``kind`` choice documented as a pattern: profiles and entries both have a ``kind`` with
    different choices, and drf-spectacular would give them colliding ``KindEnum`` components
    (a warning that ``check --deploy`` fails on)."""
    values = [value for value, _ in choices]

    @extend_schema_field({"type": "string", "pattern": f"^({'|'.join(values)})$", "description": ", ".join(values)})
    class KindField(ChoiceField):
        pass

    return KindField(choices=choices, **kwargs)


VERSION_HELP = "The version you opened; if someone saved since, the answer is 409 changed_since_opened."


class _Ref(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()

    class Meta:
        ref_name = "CaseworkRef"


class _Person(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()

    class Meta:
        ref_name = "CaseworkPerson"


# --- Profiles --------------------------------------------------------------------------------


class ProfileSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    display_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    owning_agency = _Ref()
    owning_team = _Ref(allow_null=True)
    version = serializers.IntegerField()

    class Meta:
        ref_name = "ProfileSummary"


class ProfileDetailOutput(ProfileSummaryOutput):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    name = serializers.CharField()
    gender = serializers.CharField()
    phone = serializers.CharField()
    notes = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField())
    addresses = inline_serializer(
        name="ProfileAddress",
        many=True,
        fields={
            "line1": serializers.CharField(),
            "line2": serializers.CharField(),
            "town": serializers.CharField(),
            "postcode": serializers.CharField(),
            "is_current": serializers.BooleanField(),
        },
    )
    identifiers = inline_serializer(
        name="ProfileIdentifier", many=True, fields={"kind": serializers.CharField(), "value": serializers.CharField()}
    )
    warnings = inline_serializer(
        name="ProfileWarning", many=True, fields={"kind": serializers.CharField(), "note": serializers.CharField()}
    )
    vulnerabilities = inline_serializer(
        name="ProfileVulnerability",
        many=True,
        fields={"kind": serializers.CharField(), "note": serializers.CharField()},
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ProfileDetail"


def _profile_detail(profile: Profile) -> dict:
    prefetch_related_objects(
        [profile], "owning_agency", "owning_team", "aliases", "addresses", "identifiers", "warnings", "vulnerabilities"
    )
    return {
        **{field: getattr(profile, field) for field in ProfileSummaryOutput._declared_fields},
        **{
            field: getattr(profile, field)
            for field in ("first_name", "last_name", "name", "gender", "phone", "notes", "created_at", "updated_at")
        },
        "aliases": [alias.name for alias in profile.aliases.all()],
        "addresses": list(profile.addresses.all()),
        "identifiers": list(profile.identifiers.all()),
        "warnings": list(profile.warnings.all()),
        "vulnerabilities": list(profile.vulnerabilities.all()),
    }


class ProfileListCreateApi(CaseworkAPIView):
    class InputSerializer(serializers.Serializer):
        kind = ChoiceField(choices=Profile.Kind.choices, default=Profile.Kind.PERSON)
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        date_of_birth = DateField(required=False, allow_null=True, default=None)
        gender = ChoiceField(choices=Profile.Gender.choices, default=Profile.Gender.NOT_KNOWN)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
        notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
        owning_team = IdField(required=False, allow_null=True, default=None)
        aliases = serializers.ListField(
            child=serializers.CharField(max_length=200), required=False, default=list, max_length=20
        )

        class Meta:
            ref_name = "ProfileCreateInput"

    @extend_schema(
        operation_id="profiles_list",
        parameters=[OpenApiParameter("kind", enum=Profile.Kind.values), OpenApiParameter("page", int)],
        responses=page_of(ProfileSummaryOutput, "PaginatedProfileSummary"),
    )
    def get(self, request):
        profiles = selectors.profiles_visible_to(request.user).select_related("owning_agency", "owning_team")
        kind = request.query_params.get("kind")
        if kind:
            if kind not in Profile.Kind.values:
                raise exceptions.ValidationError({"kind": [f"Choose one of {', '.join(Profile.Kind.values)}."]})
            profiles = profiles.filter(kind=kind)
        return _paginated(request, self, profiles.order_by(*Profile._meta.ordering, "pk"), ProfileSummaryOutput)

    @extend_schema(
        operation_id="profiles_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=InputSerializer,
        responses={201: ProfileDetailOutput},
    )
    def post(self, request):
        def create():
            data = _valid(self.InputSerializer, request.data)
            team = _team(data.pop("owning_team"), field="owning_team")
            profile = services.profile_create(user=request.user, request=request, owning_team=team, **data)
            return Response(ProfileDetailOutput(_profile_detail(profile)).data, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class ProfileDuplicatesApi(CaseworkAPIView):
    """Profiles the user can see that may be the person about to be created (a read, so viewers may ask)."""

    permission_classes = [IsVerified]

    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        date_of_birth = DateField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "ProfileDuplicatesInput"

    class OutputSerializer(ProfileSummaryOutput):
        similarity = serializers.FloatField()

        class Meta:
            ref_name = "ProfileDuplicate"

    @extend_schema(operation_id="profiles_duplicates", request=InputSerializer, responses=OutputSerializer(many=True))
    def post(self, request):
        data = _valid(self.InputSerializer, request.data)
        candidates = list(services.profile_likely_duplicates(user=request.user, **data))
        prefetch_related_objects(candidates, "owning_agency", "owning_team")
        return Response(self.OutputSerializer(candidates, many=True).data)


def _team(team_id, *, field: str):
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise DjangoValidationError({field: ["Unknown team."]})
    return team


class ProfileDetailApi(CaseworkAPIView):
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        date_of_birth = DateField(required=False, allow_null=True)
        gender = ChoiceField(choices=Profile.Gender.choices, required=False)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
        notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)

        class Meta:
            ref_name = "ProfileUpdateInput"

    @extend_schema(operation_id="profiles_retrieve", responses=ProfileDetailOutput)
    def get(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        services.record_viewed(user=request.user, request=request, record=profile)
        return Response(ProfileDetailOutput(_profile_detail(profile)).data)

    @extend_schema(operation_id="profiles_update", request=InputSerializer, responses=ProfileDetailOutput)
    def patch(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        changes = _valid(self.InputSerializer, request.data)
        with _conflicts():
            profile = services.profile_update(user=request.user, request=request, profile=profile, **changes)
        return Response(ProfileDetailOutput(_profile_detail(profile)).data)


# --- Cases -----------------------------------------------------------------------------------


class CaseSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    case_type = serializers.CharField(source="case_type.code")
    status = serializers.CharField()
    outcome = serializers.CharField()
    opened_on = serializers.DateField()
    closed_on = serializers.DateField(allow_null=True)
    owning_agency = _Ref()
    owning_team = _Ref(allow_null=True)
    version = serializers.IntegerField()

    class Meta:
        ref_name = "CaseSummary"


class CaseDetailOutput(CaseSummaryOutput):
    summary = serializers.CharField()
    lead_practitioner = _Person(allow_null=True)
    subjects = inline_serializer(
        name="CaseSubject",
        many=True,
        source="subjects_list",
        fields={
            "profile_id": serializers.IntegerField(),
            "display_name": serializers.CharField(source="profile.display_name"),
            "role": serializers.CharField(),
        },
    )
    entry_count = serializers.IntegerField(help_text="Entries on the timeline (restricted ones included).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "CaseDetail"


def _case_detail(*, user, case_id) -> Case:
    """The case with everything its detail shows, in a fixed number of queries."""
    related = ("case_type", "owning_agency", "owning_team", "lead_practitioner")
    case = selectors.access_case(user=user, case_id=case_id, related=related)
    case.subjects_list = list(CaseSubject.objects.filter(case=case).select_related("profile").order_by("pk"))
    case.entry_count = case.entries.filter(deleted_at__isnull=True).count()
    return case


class CaseListCreateApi(CaseworkAPIView):
    class InputSerializer(serializers.Serializer):
        case_type = SlugRelatedField(slug_field="code", queryset=CaseType.objects.all())
        title = serializers.CharField(max_length=200)
        summary = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
        opened_on = DateField(required=False, allow_null=True, default=None)
        owning_team = IdField(required=False, allow_null=True, default=None)
        lead_practitioner = IdField(required=False, allow_null=True, default=None)
        subjects = inline_serializer(
            name="CaseSubjectInput",
            many=True,
            required=False,
            default=list,
            fields={
                "profile": IdField(),
                "role": ChoiceField(choices=CaseSubject.Role.choices),
            },
        )

        class Meta:
            ref_name = "CaseCreateInput"

    @extend_schema(
        operation_id="cases_list",
        parameters=[OpenApiParameter("status", enum=Case.Status.values), OpenApiParameter("page", int)],
        responses=page_of(CaseSummaryOutput, "PaginatedCaseSummary"),
    )
    def get(self, request):
        cases = selectors.cases_visible_to(request.user).select_related("case_type", "owning_agency", "owning_team")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in Case.Status.values:
                raise exceptions.ValidationError({"status": [f"Choose one of {', '.join(Case.Status.values)}."]})
            cases = cases.filter(status=wanted)
        return _paginated(request, self, cases, CaseSummaryOutput)

    @extend_schema(
        operation_id="cases_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=InputSerializer,
        responses={201: CaseDetailOutput},
    )
    def post(self, request):
        return api_create_once(request, lambda: self._create(request))

    def _create(self, request):
        data = _valid(self.InputSerializer, request.data)
        profiles = _visible_profiles(request.user, [s["profile"] for s in data["subjects"]], field="subjects")
        case = services.case_create(
            user=request.user,
            request=request,
            case_type=data["case_type"],
            title=data["title"],
            summary=data["summary"],
            opened_on=data["opened_on"],
            owning_team=_team(data["owning_team"], field="owning_team"),
            lead_practitioner=_practitioner(data["lead_practitioner"]),
            subjects=[(p, s["role"]) for p, s in zip(profiles, data["subjects"], strict=True)],
        )
        detail = _case_detail(user=request.user, case_id=case.pk)
        return Response(_case_data(detail), status=status.HTTP_201_CREATED)


def _practitioner(user_id):
    if user_id is None:
        return None
    from tenant_apps.accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise DjangoValidationError({"lead_practitioner": ["Unknown person."]})
    return user


def _case_data(case: Case) -> dict:
    return CaseDetailOutput(case).data


class CaseDetailApi(CaseworkAPIView):
    @extend_schema(operation_id="cases_retrieve", responses=CaseDetailOutput)
    def get(self, request, case_id):
        case = _case_detail(user=request.user, case_id=case_id)
        services.record_viewed(user=request.user, request=request, record=case)
        return Response(_case_data(case))


class CaseStatusApi(CaseworkAPIView):
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        status = ChoiceField(choices=Case.Status.choices)
        outcome = ChoiceField(choices=Case.Outcome.choices, required=False, allow_blank=True, default="")
        closed_on = DateField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "CaseStatusInput"

    @extend_schema(operation_id="cases_set_status", request=InputSerializer, responses=CaseDetailOutput)
    def post(self, request, case_id):
        case = selectors.access_case(user=request.user, case_id=case_id)
        data = _valid(self.InputSerializer, request.data)
        with _conflicts():
            services.case_set_status(user=request.user, request=request, case=case, **data)
        return Response(_case_data(_case_detail(user=request.user, case_id=case.pk)))


# --- Timeline --------------------------------------------------------------------------------


_DATETIME = DateTimeField()  # one field for every entry's dates (building one costs more than using it)


def _listed(entry, attribute: str, relation: str) -> list[int]:
    """Sorted ids of the entry's teams or profiles: read with the page (``_timeline_page``), or else now."""
    ids = getattr(entry, attribute, None)
    return ids if ids is not None else sorted(obj.pk for obj in getattr(entry, relation).all())


def _recorder_full_name(entry) -> str:
    """Listed entries carry the recorder's name as a column (``selectors._stream``); others their user."""
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
    recorded_by = _Person(required=False)
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


def _set_listed_ids(page: list) -> None:
    """Set ``listed_team_ids`` and ``listed_profile_ids`` on a page of entries, in one query for the
    page (what ``prefetch_related`` did in two, without a model per pair). Not in the page's own
    query: PostgreSQL would build the arrays of every row an ``OFFSET`` skips."""
    teams, profiles = TimelineEntry.restricted_to_teams.through, TimelineEntry.profiles.through
    rows = TimelineEntry.objects.filter(pk__in=[entry.pk for entry in page]).annotate(
        team_ids=related_values(teams, column="team_id", key="timelineentry_id", outer=TimelineEntry),
        profile_ids=related_values(profiles, column="profile_id", key="timelineentry_id", outer=TimelineEntry),
    )
    listed = {pk: (teams, profiles) for pk, teams, profiles in rows.values_list("pk", "team_ids", "profile_ids")}
    for entry in page:
        entry.listed_team_ids, entry.listed_profile_ids = listed[entry.pk]


class _CountedPagination(Pagination):
    """The API's pages, of a list whose count is known (``paging.CountedPaginator``)."""

    def __init__(self, count: int):
        self.known_count = count

    def django_paginator_class(self, queryset, page_size):
        return CountedPaginator(queryset, page_size, count=self.known_count)


def _timeline_page(request, view, entries, *, count: int | None = None):
    """A page of entries with their teams' and profiles' ids (``count``: how many entries there
    are, when it is known more cheaply than by counting ``entries``)."""
    paginator = Pagination() if count is None else _CountedPagination(count)
    page = paginator.paginate_queryset(entries, request, view=view)
    if page:
        _set_listed_ids(page)
    return paginator.get_paginated_response(EntryOutput(page, many=True).data)


class EntryCreateInput(serializers.Serializer):
    kind = _kind_field(TimelineEntry.Kind.choices)
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


def _entry_create(request, *, case=None, profile=None):
    return api_create_once(request, lambda: _entry_create_now(request, case=case, profile=profile))


def _entry_create_now(request, *, case=None, profile=None):
    data = _valid(EntryCreateInput, request.data)
    ids = data.pop("profiles")
    if profile is not None and profile.pk not in ids:
        ids = [profile.pk, *ids]
    profiles = _visible_profiles(request.user, ids, field="profiles")
    teams = [_team(team_id, field="restricted_to_teams") for team_id in dict.fromkeys(data.pop("restricted_to_teams"))]
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


class CaseTimelineApi(CaseworkAPIView):
    @extend_schema(
        operation_id="cases_timeline",
        description=TIMELINE_DOC,
        parameters=TIMELINE_PARAMETERS,
        responses=TIMELINE_PAGE,
    )
    def get(self, request, case_id):
        case = selectors.access_case(user=request.user, case_id=case_id)
        kind = _valid(TimelineQuery, request.query_params)["kind"]
        services.record_viewed(user=request.user, request=request, record=case, what="timeline")
        entries = selectors.timeline_for_case(user=request.user, case=case, kind=kind)
        return _timeline_page(request, self, entries, count=selectors.live_entry_count(case, kind=kind))

    @extend_schema(
        operation_id="cases_timeline_add",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=EntryCreateInput,
        responses={201: EntryOutput},
    )
    def post(self, request, case_id):
        case = selectors.access_case(user=request.user, case_id=case_id)
        return _entry_create(request, case=case)


class ProfileTimelineApi(CaseworkAPIView):
    @extend_schema(
        operation_id="profiles_timeline",
        description=TIMELINE_DOC + " Entries of cases you may not see are left out.",
        parameters=TIMELINE_PARAMETERS,
        responses=TIMELINE_PAGE,
    )
    def get(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        kind = _valid(TimelineQuery, request.query_params)["kind"]
        services.record_viewed(user=request.user, request=request, record=profile, what="timeline")
        entries = selectors.timeline_for_profile(user=request.user, profile=profile, kind=kind)
        return _timeline_page(request, self, entries)

    @extend_schema(
        operation_id="profiles_timeline_add",
        parameters=[IDEMPOTENCY_PARAMETER],
        description="Record work about this profile (and any others named), on no case.",
        request=EntryCreateInput,
        responses={201: EntryOutput},
    )
    def post(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        return _entry_create(request, profile=profile)


class EntryDetailApi(CaseworkAPIView):
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        kind = _kind_field(TimelineEntry.Kind.choices, required=False)
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
        entry = _editable_entry(user=request.user, entry_id=entry_id)
        changes = _valid(self.InputSerializer, request.data)
        with _conflicts():
            entry = services.entry_update(user=request.user, request=request, entry=entry, **changes)
        return Response(EntryOutput(entry).data)


class EntryDeleteApi(CaseworkAPIView):
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
        entry = _editable_entry(user=request.user, entry_id=entry_id)
        data = _valid(self.InputSerializer, request.data)
        with _conflicts():
            services.entry_delete(user=request.user, request=request, entry=entry, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Shares ----------------------------------------------------------------------------------


class ShareOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = _Ref(allow_null=True)
    agency = _Ref(allow_null=True)
    user = _Person(allow_null=True)
    can_edit = serializers.BooleanField()
    can_share = serializers.BooleanField(help_text="May share on: the grantee may share it further (never with "
                                         "more than they hold) and revoke what they granted.")  # fmt: skip
    granted_by = _Person()
    granted_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Share"


class ShareInput(serializers.Serializer):
    team = IdField(required=False, allow_null=True, default=None)
    agency = IdField(required=False, allow_null=True, default=None)
    user = IdField(required=False, allow_null=True, default=None)
    can_edit = serializers.BooleanField(required=False, default=False)
    can_share = serializers.BooleanField(
        required=False, default=False,
        help_text="May share on. Only the owning team or agency, or an admin, may grant it (else 400 on can_share).",
    )  # fmt: skip

    class Meta:
        ref_name = "ShareInput"


def _grantees(data) -> dict:
    from tenant_apps.accounts.models import User
    from tenant_apps.directory.models import Agency

    found = {"team": _team(data["team"], field="team"), "agency": None, "grantee": None}
    if data["agency"] is not None:
        found["agency"] = Agency.objects.filter(pk=data["agency"]).first()
        if found["agency"] is None:
            raise DjangoValidationError({"agency": ["Unknown agency."]})
    if data["user"] is not None:
        found["grantee"] = User.objects.filter(pk=data["user"], is_active=True).first()
        if found["grantee"] is None:
            raise DjangoValidationError({"user": ["Unknown person."]})
    return found


def _shares_of(record) -> list[Share]:
    return list(record.shares.select_related("team", "agency", "user", "granted_by").order_by("pk"))


def _share_grant(request, **record):
    return api_create_once(request, lambda: _share_grant_now(request, **record))


def _share_grant_now(request, **record):
    """Share the record: the owners, admins and re-sharers (``selectors.sharing_rights``); anyone
    else who may see it gets 403. The answer is the share as committed (its team, agency, user
    and granter are the objects it was made with): nothing is read after the commit."""
    data = _valid(ShareInput, request.data)
    share = services.share_grant(
        user=request.user, request=request, **record, can_edit=data["can_edit"], can_share=data["can_share"],
        **_grantees(data),
    )  # fmt: skip
    return Response(ShareOutput(share).data, status=status.HTTP_201_CREATED)


def _share_revoke(request, record, share_id):
    share = record.shares.filter(pk=share_id).first()
    if share is None:
        raise Http404("No such share")
    services.share_revoke(user=request.user, request=request, share=share)
    return Response(status=status.HTTP_204_NO_CONTENT)


class CaseSharesApi(CaseworkAPIView):
    @extend_schema(operation_id="cases_shares_list", responses=ShareOutput(many=True))
    def get(self, request, case_id):
        case = selectors.access_case(user=request.user, case_id=case_id)
        services.record_viewed(user=request.user, request=request, record=case, what="shares")
        return Response(ShareOutput(_shares_of(case), many=True).data)

    @extend_schema(
        operation_id="cases_shares_grant",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ShareInput,
        responses={201: ShareOutput},
    )
    def post(self, request, case_id):
        return _share_grant(request, case=selectors.access_case(user=request.user, case_id=case_id))


class CaseShareRevokeApi(CaseworkAPIView):
    @extend_schema(operation_id="cases_shares_revoke", responses={204: None})
    def delete(self, request, case_id, share_id):
        return _share_revoke(request, selectors.access_case(user=request.user, case_id=case_id), share_id)


class ProfileSharesApi(CaseworkAPIView):
    @extend_schema(operation_id="profiles_shares_list", responses=ShareOutput(many=True))
    def get(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        services.record_viewed(user=request.user, request=request, record=profile, what="shares")
        return Response(ShareOutput(_shares_of(profile), many=True).data)

    @extend_schema(
        operation_id="profiles_shares_grant",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ShareInput,
        responses={201: ShareOutput},
    )
    def post(self, request, profile_id):
        return _share_grant(request, profile=selectors.access_profile(user=request.user, profile_id=profile_id))


class ProfileShareRevokeApi(CaseworkAPIView):
    @extend_schema(operation_id="profiles_shares_revoke", responses={204: None})
    def delete(self, request, profile_id, share_id):
        return _share_revoke(request, selectors.access_profile(user=request.user, profile_id=profile_id), share_id)


__all__ = [
    "CaseDetailApi",
    "CaseListCreateApi",
    "CaseShareRevokeApi",
    "CaseSharesApi",
    "CaseStatusApi",
    "CaseTimelineApi",
    "EntryDeleteApi",
    "EntryDetailApi",
    "ProfileDetailApi",
    "ProfileDuplicatesApi",
    "ProfileListCreateApi",
    "ProfileShareRevokeApi",
    "ProfileSharesApi",
    "ProfileTimelineApi",
]
