"""Domain errors: what a service refuses, with a stable ``code`` and a ``message`` for people.

Services raise these; they never build an HTTP answer. Each is mapped once: by the API's
exception handler (``concord.api.errors``: ``Conflict`` -> 409, ``Unavailable`` -> 503 with
``Retry-After``, ``DocumentMissing`` -> 404, each answering its own ``code``) and, for pages,
by ``concord.pages.apply_errors`` (the message on the form as a whole). A Django
``ValidationError`` stays the error of invalid input, named by field.

A new error subclasses the nearest kind and sets ``code`` and ``message``; ``str(error)``
is the message (or the one given when raised).

Imports nothing but the standard library (the floor imports no app).
"""

from __future__ import annotations

# Seconds a client should wait before trying again after an outage (a database or storage fault).
RETRY_AFTER_SECONDS = 60


class DomainError(Exception):
    """A refusal a service reports to the person asking (not a bug)."""

    code = "error"
    message = "The request could not be completed."

    def __init__(self, message: str | None = None):
        self.message = message or self.message
        super().__init__(self.message)


class Conflict(DomainError):
    """The request contradicts the record's current state (HTTP 409)."""

    code = "conflict"
    message = "This record has changed. Reload it, then try again."


class ChangedSinceOpened(Conflict):
    """Someone saved this record after the user opened it: nothing was written."""

    code = "changed_since_opened"
    message = "This record changed since you opened it. Reload it, check the changes, then make yours again."


class WrongState(Conflict):
    """The record is not in a state that allows this (a draft already submitted, a submission
    already decided): nothing was written (HTTP 409). The message says which state it is in."""

    code = "wrong_state"
    message = "This record cannot be changed in its current state."


class Unavailable(DomainError):
    """Something the request needs cannot be reached now; asking again later may work (HTTP 503)."""

    code = "unavailable"
    message = "Concord is unavailable, try again in a minute."
    retry_after = RETRY_AFTER_SECONDS


class StorageUnavailable(Unavailable):
    """Object storage could not be reached or refused the request; nothing was saved."""

    code = "storage_unavailable"
    message = "Files cannot be stored at the moment; nothing was saved. Try again in a few minutes."


class ScannerUnavailable(StorageUnavailable):
    """The malware scanner (clamd) could not be reached, refused, or did not answer in time: an
    upload is never stored unscanned (fail closed), so nothing was saved."""

    code = "scanner_unavailable"
    message = "Files cannot be checked for viruses at the moment, so nothing was saved. Try again in a few minutes."


class DocumentMissing(DomainError):
    """The document's row is stored but storage answers that its object does not exist (HTTP 404).

    Not an outage (``StorageUnavailable``): asking again will not help. Audited as
    ``document.missing`` where it is found (``document_download_url``, ``document_read``).
    """

    code = "document_missing"
    message = (
        "The file of this document is missing from storage, so it cannot be opened. "
        "This has been recorded; ask your partnership's administrator to restore it."
    )


__all__ = [
    "RETRY_AFTER_SECONDS",
    "ChangedSinceOpened",
    "Conflict",
    "DocumentMissing",
    "DomainError",
    "ScannerUnavailable",
    "StorageUnavailable",
    "Unavailable",
    "WrongState",
]
