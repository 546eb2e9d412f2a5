"""Documents and photos: bytes in object storage under the partnership's prefix, metadata here.

Public API (keyword-only):

- ``services.document_store(request_or_user=, file=, attached_to_type=, attached_to_id=)``: check, clean and
  store a file attached to a record; audited.
- ``services.document_download_url(user=, document=, request=None)``: a short-lived signed link; audited.
- ``services.document_download_link(user=, document_id=, request=None)``: a document named by id
  (one ``Http404`` for missing and not-yours), its URL and ``expires_in``: what both download
  endpoints (the page's redirect, the API's ``download-url``) answer.
- ``services.document_read(user=, document=, request=None)``: an inline image's bytes.
- ``services.document_thumbnail(user=, document=, request=None)``: a small JPEG of an image, made on
  its first read and kept in the process (the ``thumbnails`` cache); served at ``documents:thumbnail``.
- ``services.document_delete(request_or_user=, document=, reason=)``: the row marked deleted, the object
  removed; audited.
- ``services.StorageUnavailable`` (``concord.errors``; documents' ``services.DocumentUnreadable`` is one):
  storage is down, try later.
- ``scanning.scan(data)``: what ClamAV's daemon finds in an upload (``document_store`` calls it before
  storing); ``concord.errors.ScannerUnavailable`` (a ``StorageUnavailable``) when it gives no verdict.
- ``services.DocumentMissing`` (``concord.errors``): the row is stored, the object is gone (audited
  ``document.missing``).
- ``services.STORAGE_ERRORS``: the storage client's exceptions, for a caller that cleans up after one.
- ``services.documents_storage()``: the storage backend of documents (the partnership's prefix).
- ``selectors.document_get_for_user(user=, document_id=)``: a document the user may download, or None.
- ``selectors.documents_attached_to(user=, attached_to_type=, attached_to_id=)``: a record's documents.
- ``access.register(attached_to_type, check)``: who may download what (fail closed); the owning app
  registers in ``AppConfig.ready()``.
- ``models.Document``: a stored file's metadata, attached to a record by type and id.
- ``content.thumbnail_size(width, height)``: the size of an image's thumbnail, for its ``<img>``.
- ``content.sniff(data)``: what a file's first bytes say it is (a ``Kind``; a ``ValidationError`` if refused).
"""
