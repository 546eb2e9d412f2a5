"""Sign-in limits counted atomically in the public schema: charge first, decide on the result.

The address throttle and the account-wide limit (``accounts.services``, "Brute force") used to be
decided by counting ``FailedSignIn`` rows and adding one after the password was checked: N
parallel attempts all read the same count, all passed a limit of K, and all were checked. Now an
attempt is *charged* before anything is checked, and the refusal is decided on what the charge
returned:

1. One statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) appends the attempt's
   timestamp to each of its limits' rows (``SignInLimit``: ``address:<ip>``, ``account:<hash>``),
   dropping the entries that have left that limit's window, and returns how many each row now
   holds. The row lock serialises the charges of one key, and under READ COMMITTED the update is
   computed on the newest committed row, so the counts the parallel attempts see are 1, 2, ..., N:
   exactly K of them are within a limit of K, whatever the interleaving.
2. An attempt over a limit is refused without checking anything, and releases its charge (it was
   not a failure). An attempt within the limits is checked: a failure keeps its charge (the
   ``FailedSignIn`` row it leaves has the charge's timestamp as its ``at``), a success releases
   it. So the rows hold the failures in the window plus the attempts in flight; an attempt in
   flight can make another one wait early (never late), and never lets more than K through.
3. A full sign-in forgets the source's own failures (README "Accounts"): their timestamps are
   removed from both rows (``release_in_public`` with the ``at`` of each ``FailedSignIn`` row).

Windows slide (each entry ages out on its own), as the row counts did. Entries of one row are one
per charge; a release removes one occurrence per timestamp given (a multiset difference), so two
charges made in the same microsecond are still told apart by their number. Several rows are
charged in one statement in key order, releases touch one row per statement and the clean-up
skips locked rows: no two statements can wait on each other in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenant_apps.accounts.models import SignInLimit


@dataclass(frozen=True)
class Charge:
    key: str
    count: int  # charges in the window, this one included
    at: datetime  # this charge's entry (the database's statement time)


def _table() -> str:
    quote = connection.ops.quote_name
    return f"{quote(get_public_schema_name())}.{quote(SignInLimit._meta.db_table)}"


_CHARGE_SQL = """
INSERT INTO {table} AS l (key, failures, charged_at)
VALUES {values}
ON CONFLICT (key) DO UPDATE
   SET failures = ARRAY(SELECT f FROM unnest(l.failures) AS f
                         WHERE f > statement_timestamp() - make_interval(secs => CASE l.key {windows} END)
                         ORDER BY f) || EXCLUDED.failures,
       charged_at = EXCLUDED.charged_at
RETURNING l.key, cardinality(l.failures), statement_timestamp()
"""

# Remove one occurrence of each given timestamp (a multiset difference: a value given twice goes twice).
_RELEASE_SQL = """
UPDATE {table} AS l
   SET failures = ARRAY(SELECT kept.f
                          FROM (SELECT f, row_number() OVER (PARTITION BY f) AS n FROM unnest(l.failures) AS f) kept
                         WHERE kept.n > (SELECT count(*) FROM unnest(%(at)s::timestamptz[]) AS a WHERE a = kept.f)
                         ORDER BY kept.f)
 WHERE l.key = %(key)s AND l.failures && %(at)s::timestamptz[]
"""

_FORGET_SQL = """
DELETE FROM {table}
 WHERE key IN (SELECT key FROM {table} WHERE charged_at < statement_timestamp() - make_interval(secs => %(seconds)s)
               FOR UPDATE SKIP LOCKED)
"""


def charge_in_public(windows: dict[str, int]) -> dict[str, Charge]:
    """Charge one attempt to each limit in ``windows`` (key -> window in seconds), in one statement
    committed at once (outside a transaction); returns each key's charge."""
    keys = sorted(windows)  # one lock order for every statement
    values = ", ".join(["(%s, ARRAY[statement_timestamp()], statement_timestamp())"] * len(keys))
    cases = " ".join(["WHEN %s THEN %s"] * len(keys))
    params = [*keys, *(part for key in keys for part in (key, int(windows[key])))]
    with connection.cursor() as cursor:
        cursor.execute(_CHARGE_SQL.format(table=_table(), values=values, windows=cases), params)
        rows = cursor.fetchall()
    return {key: Charge(key=key, count=count, at=at) for key, count, at in rows}


def release_in_public(keys, at: list[datetime]) -> None:
    """Remove the entries charged at ``at`` from each row in ``keys`` (a refusal or a success, or
    the failures a full sign-in forgets). One statement per row."""
    if not at:
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            cursor.execute(_RELEASE_SQL.format(table=_table()), {"key": key, "at": list(at)})


def forget_idle_in_public(*, seconds: int) -> None:
    """Delete the rows charged nothing for ``seconds`` (longer than any window): forgotten as we go."""
    with connection.cursor() as cursor:
        cursor.execute(_FORGET_SQL.format(table=_table()), {"seconds": int(seconds)})
