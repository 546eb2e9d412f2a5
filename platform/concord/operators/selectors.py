"""What operators may read about partnerships: their rows in public, and counts from their schemas.

Nothing that identifies a person or a case leaves a partnership's schema here:
the usage query returns, per schema, a number of users, the time of the last
audit event and the size of the schema's tables. The dashboard costs the same
number of queries whatever the number of partnerships (a test pins it): one for
the partnerships, one for the usage of all of them (``UNION ALL`` over their
schemas, identifiers quoted by psycopg).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from tenants.models import Partnership


@dataclass(frozen=True)
class Usage:
    """Counts from one partnership's schema (never names, never case data)."""

    users: int = 0  # active accounts
    last_activity: datetime | None = None  # the newest audit event
    database_bytes: int = 0  # tables, their indexes and TOAST; files in object storage come later


@dataclass(frozen=True)
class PartnershipRow:
    partnership: Partnership
    usage: Usage | None  # None when the schema is missing (it should never be)


def _partnerships() -> QuerySet[Partnership]:
    schema_present = RawSQL(
        "EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = tenants_partnership.schema_name)", []
    )
    return Partnership.objects.annotate(schema_present=schema_present).order_by("name", "schema_name")


def partnership_usage(*, schemas: list[str]) -> dict[str, Usage]:
    """Usage of each named schema, in ONE query. Every schema must exist.

    The operators' connection runs as the platform's role, which may read no partnership's
    schema (``concord.db_roles``): the counts come from ``public.concord_partnership_usage``, a
    function the owner defines (``SECURITY DEFINER``) that returns three numbers and nothing else.
    """
    if not schemas:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.schema_name, u.users, u.last_activity, u.database_bytes "
            "FROM unnest(%s::text[]) AS s(name), LATERAL public.concord_partnership_usage(s.name) AS u",
            [schemas],
        )
        rows = cursor.fetchall()
    return {
        schema: Usage(users=users, last_activity=last_activity, database_bytes=int(size))
        for schema, users, last_activity, size in rows
    }


def partnership_list_with_usage() -> list[PartnershipRow]:
    """Every partnership, by name, with its usage: two queries however many there are."""
    partnerships = list(_partnerships())
    usage = partnership_usage(schemas=[p.schema_name for p in partnerships if p.schema_present])
    return [PartnershipRow(p, usage.get(p.schema_name)) for p in partnerships]


def partnership_for_operator(*, slug: str) -> Partnership:
    """A partnership by slug for the operator pages; 404 if there is none."""
    partnership = _partnerships().filter(schema_name=slug).first()
    if partnership is None:
        raise Http404("No such partnership.")
    return partnership


def partnership_row(*, partnership: Partnership) -> PartnershipRow:
    present = getattr(partnership, "schema_present", True)
    usage = partnership_usage(schemas=[partnership.schema_name]) if present else {}
    return PartnershipRow(partnership, usage.get(partnership.schema_name))
