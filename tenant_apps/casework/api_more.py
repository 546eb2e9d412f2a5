"""More of the casework REST API: families, a profile's details, merging profiles and
attachments on timeline entries.

Same style as ``api.py``: thin views, nested ``InputSerializer``/``OutputSerializer``,
the selectors decide what the user sees (one 404 for "missing" and "not yours"), the
services refuse writes (403) and validate (400 naming the field), a stale ``version``
answers 409 ``changed_since_opened``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from concord.api import ChoiceField, IdField, page_of
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api import (
    VERSION_HELP,
    CaseworkAPIView,
    ProfileDetailOutput,
    _conflicts,
    _kind_field,
    _paginated,
    _profile_detail,
    _Ref,
    _team,
    _valid,
)
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.casework.models import (
    Family,
    FamilyMember,
    ProfileAddress,
    ProfileAlias,
    ProfileIdentifier,
    Vulnerability,
    WarningMarker,
)
from tenant_apps.documents import selectors as document_selectors
from tenant_apps.documents.services import (
    DocumentMissing,
    StorageUnavailable,
    document_download_url,
    document_store,
)

ENTRY_DOCUMENTS = "timeline_entry"


class StorageUnavailableError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "storage_unavailable"
    default_detail = StorageUnavailable.message


class DocumentMissingError(exceptions.APIException):
    """The document's row exists but its file is gone from storage: asking again will not help."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "document_missing"
    default_detail = DocumentMissing.message


class VersionInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)

    class Meta:
        ref_name = "VersionInput"


VERSION_PARAMETER = OpenApiParameter("version", int, required=True, description=VERSION_HELP)


def _version_of(request) -> int:
    return _valid(VersionInput, request.query_params)["version"]


# --- Families --------------------------------------------------------------------------------


class FamilySummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owning_agency = _Ref()
    owning_team = _Ref(allow_null=True)
    version = serializers.IntegerField()

    class Meta:
        ref_name = "FamilySummary"


class FamilyMemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    relationship = serializers.CharField()
    profile = inline_serializer(
        name="FamilyMemberProfile",
        fields={"id": serializers.IntegerField(), "display_name": serializers.CharField()},
    )

    class Meta:
        ref_name = "FamilyMember"


class FamilyDetailOutput(FamilySummaryOutput):
    members = FamilyMemberOutput(many=True, help_text="Members whose profiles you may see.")
    hidden_members = serializers.IntegerField(help_text="How many other members there are (never named).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "FamilyDetail"


def _family_detail(user, family: Family) -> dict:
    family = Family.objects.select_related("owning_agency", "owning_team").get(pk=family.pk)
    members = selectors.members_of(user=user, family=family)
    return {
        **{field: getattr(family, field) for field in FamilySummaryOutput._declared_fields},
        "created_at": family.created_at,
        "updated_at": family.updated_at,
        "members": members.visible,
        "hidden_members": members.hidden_count,
    }


class FamilyListCreateApi(CaseworkAPIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        owning_team = IdField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "FamilyCreateInput"

    @extend_schema(
        operation_id="families_list",
        parameters=[OpenApiParameter("page", int)],
        responses=page_of(FamilySummaryOutput, "PaginatedFamilySummary"),
    )
    def get(self, request):
        families = selectors.families_visible_to(request.user).select_related("owning_agency", "owning_team")
        return _paginated(request, self, families.order_by("name", "pk"), FamilySummaryOutput)

    @extend_schema(
        operation_id="families_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=InputSerializer,
        responses={201: FamilyDetailOutput},
    )
    def post(self, request):
        def create():
            data = _valid(self.InputSerializer, request.data)
            team = _team(data["owning_team"], field="owning_team")
            family = services.family_create(user=request.user, request=request, name=data["name"],
                                                   owning_team=team)  # fmt: skip
            detail = FamilyDetailOutput(_family_detail(request.user, family)).data
            return Response(detail, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class FamilyDetailApi(CaseworkAPIView):
    @extend_schema(operation_id="families_retrieve", responses=FamilyDetailOutput)
    def get(self, request, family_id):
        family = selectors.access_family(user=request.user, family_id=family_id)
        services.record_viewed(user=request.user, request=request, record=family)
        return Response(FamilyDetailOutput(_family_detail(request.user, family)).data)


class FamilyMembersApi(CaseworkAPIView):
    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        profile = IdField(help_text="A profile you may edit.")
        relationship = ChoiceField(choices=FamilyMember.Relationship.choices)

        class Meta:
            ref_name = "FamilyMemberAddInput"

    @extend_schema(
        operation_id="families_members_add",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=InputSerializer,
        responses={201: FamilyDetailOutput},
    )
    def post(self, request, family_id):
        family = selectors.access_family(user=request.user, family_id=family_id)

        def create():
            data = _valid(self.InputSerializer, request.data)
            profile = selectors.profiles_visible_to(request.user).filter(pk=data["profile"]).first()
            with _conflicts():
                services.family_add_member(user=request.user, request=request, family=family,
                                                  profile=profile, relationship=data["relationship"],
                                                  version=data["version"])  # fmt: skip
            detail = FamilyDetailOutput(_family_detail(request.user, family)).data
            return Response(detail, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class FamilyMemberRemoveApi(CaseworkAPIView):
    @extend_schema(
        operation_id="families_members_remove", parameters=[VERSION_PARAMETER], responses={200: FamilyDetailOutput}
    )
    def delete(self, request, family_id, member_id):
        family = selectors.access_family(user=request.user, family_id=family_id)
        version = _version_of(request)
        visible = selectors.members_of(user=request.user, family=family).visible
        member = next((m for m in visible if m.pk == member_id), None)
        if member is None:
            raise Http404("No such member")
        with _conflicts():
            services.family_remove_member(user=request.user, request=request, member=member, version=version)
        return Response(FamilyDetailOutput(_family_detail(request.user, family)).data)


# --- A profile's details ---------------------------------------------------------------------


def _detail_apis(*, plural: str, component: str, model, output_fields: dict, input_fields: dict,
                 add, remove, remove_key: str):  # fmt: skip
    """The list/add and remove views of one kind of profile detail (addresses, identifiers ...)."""

    ItemOutput = type(
        f"Profile{component}Item",
        (serializers.Serializer,),
        {
            "id": serializers.IntegerField(),
            **output_fields,
            "Meta": type("Meta", (), {"ref_name": f"Profile{component}Item"}),
        },
    )

    ListOutput = inline_serializer(
        name=f"Profile{component}List",
        fields={"profile_version": serializers.IntegerField(), "results": ItemOutput(many=True)},
    )
    AddOutput = inline_serializer(
        name=f"Profile{component}Added",
        fields={"profile_version": serializers.IntegerField(), "item": ItemOutput()},
    )
    RemoveOutput = inline_serializer(
        name=f"Profile{component}Removed", fields={"profile_version": serializers.IntegerField()}
    )
    Input = type(
        f"Profile{component}AddInput",
        (serializers.Serializer,),
        {
            "version": serializers.IntegerField(min_value=1, help_text=VERSION_HELP),
            **input_fields,
            "Meta": type("Meta", (), {"ref_name": f"Profile{component}AddInput"}),
        },
    )

    class ListAddApi(CaseworkAPIView):
        InputSerializer = Input

        @extend_schema(operation_id=f"profiles_{plural}_list", responses=ListOutput)
        def get(self, request, profile_id):
            profile = selectors.access_profile(user=request.user, profile_id=profile_id)
            items = model.objects.filter(profile=profile).order_by(*(model._meta.ordering or ()), "pk")
            services.record_viewed(user=request.user, request=request, record=profile, what=plural)
            return Response({"profile_version": profile.version, "results": ItemOutput(items, many=True).data})

        @extend_schema(
            operation_id=f"profiles_{plural}_add",
            parameters=[IDEMPOTENCY_PARAMETER],
            request=Input,
            responses={201: AddOutput},
        )
        def post(self, request, profile_id):
            profile = selectors.access_profile(user=request.user, profile_id=profile_id)

            def create():
                data = _valid(Input, request.data)
                with _conflicts():
                    item = add(user=request.user, request=request, profile=profile, **data)
                profile.refresh_from_db(fields=["version"])  # in the transaction: before the commit
                answer = {"profile_version": profile.version, "item": ItemOutput(item).data}
                return Response(answer, status=status.HTTP_201_CREATED)

            return api_create_once(request, create)

    class RemoveApi(CaseworkAPIView):
        @extend_schema(
            operation_id=f"profiles_{plural}_remove", parameters=[VERSION_PARAMETER], responses={200: RemoveOutput}
        )
        def delete(self, request, profile_id, item_id):
            profile = selectors.access_profile(user=request.user, profile_id=profile_id)
            version = _version_of(request)
            with _conflicts():
                profile = remove(user=request.user, request=request, profile=profile, version=version,
                                 **{remove_key: item_id})  # fmt: skip
            return Response({"profile_version": profile.version})

    ListAddApi.__name__ = ListAddApi.__qualname__ = f"Profile{component}ListAddApi"
    RemoveApi.__name__ = RemoveApi.__qualname__ = f"Profile{component}RemoveApi"
    return ListAddApi, RemoveApi


def _note():
    return serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


ProfileAddressesApi, ProfileAddressRemoveApi = _detail_apis(
    plural="addresses", component="Address", model=ProfileAddress,
    output_fields={"line1": serializers.CharField(), "line2": serializers.CharField(),
                   "town": serializers.CharField(), "postcode": serializers.CharField(),
                   "is_current": serializers.BooleanField()},
    input_fields={"line1": serializers.CharField(max_length=200),
                  "line2": serializers.CharField(max_length=200, required=False, allow_blank=True, default=""),
                  "town": serializers.CharField(max_length=100, required=False, allow_blank=True, default=""),
                  "postcode": serializers.CharField(max_length=20),
                  "is_current": serializers.BooleanField(required=False, default=True)},
    add=services.address_add, remove=services.address_remove, remove_key="address_id",
)  # fmt: skip

ProfileIdentifiersApi, ProfileIdentifierRemoveApi = _detail_apis(
    plural="identifiers", component="Identifier", model=ProfileIdentifier,
    output_fields={"kind": serializers.CharField(), "value": serializers.CharField()},
    input_fields={"kind": _kind_field(ProfileIdentifier.Kind.choices), "value": serializers.CharField(max_length=60)},
    add=services.identifier_add, remove=services.identifier_remove, remove_key="identifier_id",
)  # fmt: skip

ProfileWarningsApi, ProfileWarningRemoveApi = _detail_apis(
    plural="warnings", component="Warning", model=WarningMarker,
    output_fields={"kind": serializers.CharField(), "note": serializers.CharField()},
    input_fields={"kind": _kind_field(WarningMarker.Kind.choices), "note": _note()},
    add=services.warning_add, remove=services.warning_remove, remove_key="warning_id",
)  # fmt: skip

ProfileVulnerabilitiesApi, ProfileVulnerabilityRemoveApi = _detail_apis(
    plural="vulnerabilities", component="Vulnerability", model=Vulnerability,
    output_fields={"kind": serializers.CharField(), "note": serializers.CharField()},
    input_fields={"kind": _kind_field(Vulnerability.Kind.choices), "note": _note()},
    add=services.vulnerability_add, remove=services.vulnerability_remove,
    remove_key="vulnerability_id",
)  # fmt: skip

ProfileAliasesApi, ProfileAliasRemoveApi = _detail_apis(
    plural="aliases", component="Alias", model=ProfileAlias,
    output_fields={"name": serializers.CharField()},
    input_fields={"name": serializers.CharField(max_length=200)},
    add=services.alias_add, remove=services.alias_remove, remove_key="alias_id",
)  # fmt: skip


# --- Merging profiles ------------------------------------------------------------------------


class ProfileMergeApi(CaseworkAPIView):
    class InputSerializer(serializers.Serializer):
        merge_id = IdField(help_text="The profile merged into this one (it stays, marked merged).")

        class Meta:
            ref_name = "ProfileMergeInput"

    @extend_schema(
        operation_id="profiles_merge",
        description="Merge another profile into this one. You must be able to edit both.",
        request=InputSerializer,
        responses=ProfileDetailOutput,
    )
    def post(self, request, profile_id):
        keep = selectors.access_profile(user=request.user, profile_id=profile_id)
        data = _valid(self.InputSerializer, request.data)
        merge = selectors.access_profile(user=request.user, profile_id=data["merge_id"])
        try:
            with _conflicts():  # the other one was merged a moment ago: 409 already_merged
                keep = services.profile_merge(user=request.user, request=request, keep=keep, merge=merge)
        except DjangoValidationError as error:
            raise DjangoValidationError({"merge_id": error.messages}) from None
        keep.refresh_from_db()
        return Response(ProfileDetailOutput(_profile_detail(keep)).data)


# --- Attachments -----------------------------------------------------------------------------


class DocumentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    filename = serializers.CharField(source="original_filename")
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    uploaded_at = serializers.DateTimeField()

    class Meta:
        ref_name = "EntryAttachment"


def _readable_entry(*, user, entry_id, edit: bool = False):
    """An entry the user may read (and edit): 404 otherwise, sensitive ones included."""
    entry = selectors.access_entry(user=user, entry_id=entry_id, edit=edit)
    if not entry.can_read:
        raise Http404("No such entry")
    return entry


class EntryAttachmentsApi(CaseworkAPIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="Checked by its content; images are cleaned of metadata.")

        class Meta:
            ref_name = "EntryAttachmentUploadInput"

    @extend_schema(operation_id="entries_attachments_list", responses=DocumentOutput(many=True))
    def get(self, request, entry_id):
        entry = _readable_entry(user=request.user, entry_id=entry_id)
        documents = document_selectors.documents_attached_to(
            user=request.user, attached_to_type=ENTRY_DOCUMENTS, attached_to_id=entry.pk
        ).order_by("uploaded_at", "pk")
        services.record_viewed(user=request.user, request=request, record=entry, what="attachments")
        return Response(DocumentOutput(documents, many=True).data)

    @extend_schema(
        operation_id="entries_attachments_upload",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"multipart/form-data": InputSerializer},
        responses={201: DocumentOutput},
    )
    def post(self, request, entry_id):
        _readable_entry(user=request.user, entry_id=entry_id)  # 404 before 403
        try:
            entry = _readable_entry(user=request.user, entry_id=entry_id, edit=True)
        except Http404:
            raise PermissionDenied("You may not add files to this entry.") from None

        def create():
            data = _valid(self.InputSerializer, request.data)
            try:
                document = document_store(request_or_user=request._request, file=data["file"],
                                          attached_to_type=ENTRY_DOCUMENTS, attached_to_id=entry.pk)  # fmt: skip
            except StorageUnavailable as error:
                raise StorageUnavailableError(str(error)) from None
            except DjangoValidationError as error:
                raise DjangoValidationError({"file": error.messages}) from None
            return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class DocumentDownloadUrlApi(CaseworkAPIView):
    class OutputSerializer(serializers.Serializer):
        url = serializers.URLField()
        expires_in = serializers.IntegerField(help_text="Seconds the URL stays valid.")

        class Meta:
            ref_name = "DocumentDownloadUrl"

    @extend_schema(operation_id="documents_download_url", responses=OutputSerializer)
    def get(self, request, document_id):
        document = document_selectors.document_get_for_user(user=request.user, document_id=document_id)
        if document is None:
            raise Http404("No such document")
        try:
            url = document_download_url(user=request.user, document=document, request=request)
        except PermissionDenied:
            raise Http404("No such document") from None
        except DocumentMissing as error:
            raise DocumentMissingError(str(error)) from None
        except StorageUnavailable as error:
            raise StorageUnavailableError(str(error)) from None
        expires_in = min(int(settings.AWS_QUERYSTRING_EXPIRE), 60)
        return Response(self.OutputSerializer({"url": url, "expires_in": expires_in}).data)


__all__ = [
    "DocumentDownloadUrlApi",
    "EntryAttachmentsApi",
    "FamilyDetailApi",
    "FamilyListCreateApi",
    "FamilyMemberRemoveApi",
    "FamilyMembersApi",
    "ProfileAddressRemoveApi",
    "ProfileAddressesApi",
    "ProfileAliasRemoveApi",
    "ProfileAliasesApi",
    "ProfileIdentifierRemoveApi",
    "ProfileIdentifiersApi",
    "ProfileMergeApi",
    "ProfileVulnerabilitiesApi",
    "ProfileVulnerabilityRemoveApi",
    "ProfileWarningRemoveApi",
    "ProfileWarningsApi",
]
