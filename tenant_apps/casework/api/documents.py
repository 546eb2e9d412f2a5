"""The API of documents on casework: an entry's attachments (list, upload one) and a document's download URL."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from concord.api import BaseApi, valid
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api.base import STORAGE_UNAVAILABLE_ANSWER
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.documents.services import document_download_link

__all__ = ["DocumentDownloadUrlApi", "EntryAttachmentsApi"]


class DocumentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    filename = serializers.CharField(source="original_filename")
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    uploaded_at = serializers.DateTimeField()

    class Meta:
        ref_name = "EntryAttachment"


class EntryAttachmentsApi(BaseApi):
    api_area = "timeline"
    parser_classes = [MultiPartParser]  # a file upload only: a JSON or form-encoded body is a 415
    OutputSerializer = DocumentOutput

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="Checked by its content; images are cleaned of metadata.")

        class Meta:
            ref_name = "EntryAttachmentUploadInput"

    @extend_schema(operation_id="entries_attachments_list", responses=DocumentOutput(many=True))
    def get(self, request, entry_id):
        entry = selectors.access_entry(user=request.user, entry_id=entry_id, readable=True)
        documents = selectors.entry_attachments(user=request.user, entry=entry)
        services.record_viewed(user=request.user, request=request, record=entry, what="attachments")
        return Response(DocumentOutput(documents, many=True).data)

    @extend_schema(
        operation_id="entries_attachments_upload",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"multipart/form-data": InputSerializer},
        responses={201: DocumentOutput, 503: STORAGE_UNAVAILABLE_ANSWER},
    )
    def post(self, request, entry_id):
        entry = selectors.access_entry(user=request.user, entry_id=entry_id, readable=True, edit=True, forbid=True)

        def create():
            data = valid(self.InputSerializer, request.data)
            document = services.entry_attachment_add(user=request.user, request=request, entry=entry,
                                                     file=data["file"])  # fmt: skip
            return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class DocumentDownloadUrlApi(BaseApi):
    api_area = "timeline"
    read_limit = "download"  # counted as a download (accounts.readlimits), as the page's download is

    class OutputSerializer(serializers.Serializer):
        url = serializers.URLField()
        expires_in = serializers.IntegerField(help_text="Seconds the URL stays valid.")

        class Meta:
            ref_name = "DocumentDownloadUrl"

    @extend_schema(operation_id="documents_download_url", responses=OutputSerializer)
    def get(self, request, document_id):
        # The download of /documents/<id>/download/ (one implementation), answered as JSON.
        link = document_download_link(user=request.user, document_id=document_id, request=request)
        return Response(self.OutputSerializer(link).data)
