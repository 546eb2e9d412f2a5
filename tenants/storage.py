"""Object storage per partnership: every key starts with the partnership's schema name."""

from django.db import connection
from storages.backends.s3 import S3Storage


class PartnershipS3Storage(S3Storage):
    """S3 storage whose prefix is computed per call from the current schema.

    A ``location`` computed once would keep the first partnership's prefix for
    every later request in the process; this property reads it every time and
    refuses to store anything outside a partnership.
    """

    @property
    def location(self):  # noqa: D401 - django-storages reads this attribute
        schema = connection.schema_name
        if not schema or schema == "public":
            raise RuntimeError("partnership storage used outside a partnership's context")
        return schema

    @location.setter
    def location(self, value):  # S3Storage.__init__ assigns it; the prefix is never fixed
        pass
