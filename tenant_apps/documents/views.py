"""Downloads: a permission check, an audit event, then a redirect to a short-lived presigned URL."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.views.decorators.http import require_GET

from tenant_apps.documents.selectors import document_get_for_user
from tenant_apps.documents.services import document_download_url


@require_GET
def download(request, document_id):
    """302 to a presigned URL (<= 60 s). Missing, deleted and not-yours all answer 404."""
    document = document_get_for_user(user=request.user, document_id=document_id)
    if document is None:
        raise Http404("No such document")
    try:
        url = document_download_url(user=request.user, document=document, request=request)
    except PermissionDenied:
        raise Http404("No such document") from None
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    return response
