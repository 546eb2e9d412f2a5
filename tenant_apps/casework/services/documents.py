"""Casework's writes of documents (stored through ``tenant_apps.documents.services``): files
attached to a timeline entry and a profile's photo.

Each document's object is uploaded before its row is inserted. When the rows roll back (a
refused file, storage down, any error), ``objects_discarded_on_failure`` deletes the objects
already uploaded; the orphan sweep is the backstop.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from tenant_apps.casework.models import Profile, TimelineEntry
from tenant_apps.casework.selectors import ENTRY_DOCUMENTS, PROFILE_PHOTO, may_edit_profile
from tenant_apps.casework.services.base import require_writer
from tenant_apps.documents.models import Document
from tenant_apps.documents.services import STORAGE_ERRORS, document_store, documents_storage

__all__ = ["entry_attachment_add", "profile_photo_add"]

logger = logging.getLogger(__name__)


def _uploader(user, request):
    """What ``document_store`` audits the upload with: the page's request, the API's underlying
    request, or the user alone."""
    request = getattr(request, "_request", request)  # a DRF Request wraps the HttpRequest
    return request if isinstance(request, HttpRequest) else user


def _discard_objects(documents) -> None:
    """Delete the objects of documents whose rows were rolled back (the orphan sweep is the backstop)."""
    if not documents:
        return
    storage = documents_storage()
    for document in documents:
        try:
            storage.delete(storage.name_for_key(document.storage_key))
        except STORAGE_ERRORS:
            # Storage is failing: do not wait a deadline per object; the sweep removes the rest.
            logger.warning("could not delete objects of rolled-back documents from %s on; the sweep will", document.pk)
            return


@contextmanager
def objects_discarded_on_failure():
    """A list to put stored documents in: if the block fails, their objects are deleted (their
    rows roll back with the caller's transaction, which must end inside this block)."""
    stored: list[Document] = []
    try:
        yield stored
    except BaseException:
        _discard_objects(stored)
        raise


def attachments_store(*, user, request=None, entry: TimelineEntry, files, stored: list) -> None:
    """Store ``files`` attached to ``entry`` (in the caller's transaction), appending each to
    ``stored``. A refused file is a ``ValidationError`` on ``attachments`` naming it; storage
    down is ``StorageUnavailable``: either way the caller rolls everything back."""
    for file in files:
        try:
            document = document_store(request_or_user=_uploader(user, request), file=file,
                                      attached_to_type=ENTRY_DOCUMENTS, attached_to_id=entry.pk)  # fmt: skip
        except ValidationError as error:
            text = " ".join(error.messages)
            raise ValidationError({"attachments": [f"{file.name}: {text} Nothing was saved."]}) from error
        stored.append(document)


def entry_attachment_add(*, user, request=None, entry: TimelineEntry, file) -> Document:
    """Attach one more file to an entry the user may change (``access_entry(edit=True)``).
    A refused file is a ``ValidationError`` on ``file``; storage down is ``StorageUnavailable``."""
    require_writer(user)
    try:
        return document_store(request_or_user=_uploader(user, request), file=file,
                              attached_to_type=ENTRY_DOCUMENTS, attached_to_id=entry.pk)  # fmt: skip
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None


def profile_photo_add(*, user, request=None, profile: Profile, file) -> Document:
    """A new photo of a profile the user may edit (the newest is shown). A refused file is a
    ``ValidationError`` on ``photo``; storage down is ``StorageUnavailable``."""
    require_writer(user)
    if not may_edit_profile(user, profile):
        raise PermissionDenied("You may not change this profile.")
    try:
        return document_store(request_or_user=_uploader(user, request), file=file,
                              attached_to_type=PROFILE_PHOTO, attached_to_id=profile.pk)  # fmt: skip
    except ValidationError as error:
        raise ValidationError({"photo": error.messages}) from None
