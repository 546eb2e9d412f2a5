"""Object storage per partnership: every key starts with the partnership's schema name."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation
from django.db import connection
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class PartnershipS3Storage(S3Storage):
    """S3 storage whose prefix is computed per call from the current schema.

    A ``location`` computed once would keep the first partnership's prefix for
    every later request in the process; this property reads it every time and
    refuses to store anything outside a partnership.

    Names given to the storage (``save``, ``url``, ``delete``...) are relative
    to the partnership's prefix; ``key(name)`` is the full object key
    (``<schema>/<name>``) and ``name_for_key(key)`` turns a stored key back into
    a name, refusing a key that belongs to another partnership.
    """

    _initialising = False

    def __init__(self, **settings):
        # S3Storage.__init__ checks the location once; the instance may be created on public
        # (a worker, a management command) and used later inside a partnership's schema.
        self._initialising = True
        try:
            super().__init__(**settings)
        finally:
            self._initialising = False

    @property
    def location(self):  # noqa: D401 - django-storages reads this attribute
        if self._initialising:
            return ""
        schema = connection.schema_name
        if not schema or schema == "public":
            raise RuntimeError("partnership storage used outside a partnership's context")
        return schema

    @location.setter
    def location(self, value):  # S3Storage.__init__ assigns it; the prefix is never fixed
        pass

    def key(self, name: str) -> str:
        """The full object key of ``name`` for the current partnership: ``<schema>/<name>``."""
        return self._normalize_name(clean_name(name))

    def name_for_key(self, key: str) -> str:
        """The storage name of a full object key; refuses a key outside the current partnership."""
        prefix = f"{self.location}/"
        if not key.startswith(prefix) or ".." in key.split("/"):
            raise SuspiciousOperation(f"object key outside the partnership's prefix {prefix!r}")
        return key[len(prefix) :]

    def prefix(self, folder: str = "") -> str:
        """The key prefix of ``folder`` in the current partnership (``<schema>/<folder>/``)."""
        return f"{self.location}/{folder.strip('/')}/" if folder.strip("/") else f"{self.location}/"
