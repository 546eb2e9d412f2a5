"""Documents and photos: bytes in object storage under the partnership's prefix, metadata here.

Public API (keyword-only):

- ``services.document_store(request_or_user=, file=, attached_to_type=, attached_to_id=)``
- ``services.document_download_url(user=, document=, request=None)``
- ``services.document_download_link(user=, document_id=, request=None)``: a document named by id
  (one ``Http404`` for missing and not-yours), its URL and ``expires_in``: what both download
  endpoints (the page's redirect, the API's ``download-url``) answer
- ``services.document_read(user=, document=, request=None)``: an inline image's bytes
- errors (``concord.errors``, also importable from ``services``): ``StorageUnavailable`` (and
  documents' own ``DocumentUnreadable``): storage down, try later; ``DocumentMissing``: the row
  is stored, the object is gone (audited ``document.missing``)
- ``services.document_delete(request_or_user=, document=, reason=)``
- ``selectors.document_get_for_user(user=, document_id=)``, ``selectors.documents_attached_to(...)``
- ``access.register(attached_to_type, check)``: who may download what (fail closed).
"""
