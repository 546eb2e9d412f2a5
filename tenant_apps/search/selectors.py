"""One search box: profiles by name (typo-tolerant), alias, date of birth, identifier and
postcode; cases by reference. Every result and every count comes from
``profiles_visible_to`` / ``cases_visible_to``, so a search says nothing about records
the user may not see.

How a query is read (``parse_query``): UK dates (17/05/2001, 17-5-2001, 17 May 2001,
2001-05-17) become the date of birth; case references (ASB-2026-0001, any case),
postcodes (any spacing or case), PNC numbers (01/123456A) and NHS numbers (with or
without spaces) are taken out; other tokens holding a digit are tried as identifiers;
what is left is the name.

Profiles: name matches (pg_trgm, below) OR alias matches OR identifier matches; a date
of birth and a postcode narrow them (AND). A date of birth alone lists that date's
profiles; a postcode alone, that postcode's.

Name matching uses the GIN trigram index ``casework_profile_name_trgm`` through pg_trgm's
indexable operators:

- two or more words: every word (of two letters or more) must match a word of the name,
  ``word <<% search_name`` (strict word similarity >= 0.28: "jon" ~ "john" is 0.29,
  "smyth" ~ "smith" 0.33). The conditions are ANDed, so the index intersects the words'
  posting lists: about a thousand candidates at 1M profiles instead of the ~50,000 that
  whole-name similarity at 0.3 let through on common trigrams ("  j", " jo");
- one word: ``q <% search_name`` (word similarity >= 0.6: "Brenan" finds "kyle brennan"
  at 0.67);
- only one-letter words: whole-name similarity ``search_name % q`` (>= 0.3).

The operators' thresholds are set with ``set_config(..., true)`` in the same round trip as
the statement that uses them (one multi-statement string: in autocommit, one implicit
transaction, so they end with it). Similarity and word similarity keep pg_trgm's defaults
(other apps use ``%`` and ``<%``); only ``<<%`` gets its own threshold.

With a date of birth or a postcode the planner starts from those (the
``(date_of_birth, search_name)`` index: a few dozen rows per date at 1M profiles) and the
similarity functions, not the operators, are checked on those rows, leniently: the
per-word rule, or whole-name similarity >= 0.3, or word similarity >= 0.6.

Results are ordered by the better of whole-name similarity and word similarity (and
alias and identifier hits), capped at ``LIMIT``. The profile search is one SQL statement
(``profile_rows``), written out rather than built with the ORM (building and compiling the
queryset cost more than running it), with the visibility rule compiled from
``profiles_visible_to`` once per scope. It also counts the matches (``count(*) OVER ()``,
after the visibility filter) up to ``MATCHES_MAX`` (past it: "more than 1,000"), and brings
the shown rows' current postcode and warning markers (no prefetch). Round trips: one with
a date of birth or a postcode; two with a name alone (alias hits first); one more for
identifiers, one for case references.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Window

from tenant_apps.casework.models import (
    Profile,
    ProfileIdentifier,
    WarningMarker,
    normalise_identifier,
    normalise_name,
    normalise_postcode,
)
from tenant_apps.casework.selectors import Scope, cases_visible_to, profiles_visible_to, user_scope

LIMIT = 50
SIMILARITY_THRESHOLD = 0.3  # whole name: "jon smyth" ~ "john smith" is 0.31
WORD_SIMILARITY_THRESHOLD = 0.6  # part of a name: "brenan" in "kyle brennan" is 0.67
STRICT_WORD_SIMILARITY_THRESHOLD = 0.28  # each word of several: "jon" ~ "john smith" is 0.29
WORD_MIN_LENGTH = 2  # shorter words (initials) only count in the score
WORDS_MAX = 6
EXACT_HITS_MAX = 500  # alias and identifier hits carried into the profile query
MATCHES_MAX = 1000  # matches ranked and counted; past it the total is "more than 1,000"
QUERY_MAX_LENGTH = 200

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip
_DATE_DMY = re.compile(r"(?<![\w/])(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?![\w/])")
_DATE_ISO = re.compile(r"(?<![\w/])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w/])")
_DATE_WORDS = re.compile(r"(?<!\w)(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?,?\s+(\d{4})(?!\w)", re.IGNORECASE)
_REFERENCE = re.compile(r"(?<![\w-])([a-z]{1,8}-\d{4}-\d{1,6})(?![\w-])", re.IGNORECASE)
_POSTCODE = re.compile(r"(?<!\w)([a-z]{1,2}\d[a-z\d]?)\s*(\d[a-z]{2})(?!\w)", re.IGNORECASE)
_PNC = re.compile(r"(?<![\w/])(\d{2}|\d{4})\s*/\s*(\d{1,7})\s*([a-z])(?!\w)", re.IGNORECASE)
_NHS = re.compile(r"(?<![\w-])(\d{3})[\s-]?(\d{3})[\s-]?(\d{4})(?![\w-])")


@dataclass(frozen=True)
class ParsedQuery:
    name: str = ""
    date_of_birth: dt.date | None = None
    postcode: str = ""
    identifiers: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        """What was searched for, without the terms: what the audit trail records."""
        pairs = [("name", self.name), ("date_of_birth", self.date_of_birth), ("postcode", self.postcode),
                 ("identifier", self.identifiers), ("case_reference", self.references)]  # fmt: skip
        return tuple(kind for kind, value in pairs if value)

    @property
    def is_empty(self) -> bool:
        return not self.kinds


@dataclass
class SearchResults:
    query: ParsedQuery
    profiles: list[Profile] = field(default_factory=list)
    profile_total: int = 0
    profile_total_capped: bool = False  # more than ``profile_total`` (MATCHES_MAX) match
    cases: list = field(default_factory=list)
    case_total: int = 0

    @property
    def total(self) -> int:
        return self.profile_total + self.case_total

    @property
    def truncated(self) -> bool:
        return self.profile_total_capped or self.profile_total > len(self.profiles) or self.case_total > len(self.cases)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_query(text: str, date_of_birth: dt.date | None = None) -> ParsedQuery:
    """Split the box's text into the parts searched (see the module docstring)."""
    rest = " " + (text or "")[:QUERY_MAX_LENGTH] + " "

    def take(pattern, convert):
        nonlocal rest
        values = []
        for match in pattern.finditer(rest):
            value = convert(match)
            if value:
                values.append(value)
        rest = pattern.sub(" ", rest)  # an impossible date (31/02/2001) is dropped, not taken as a name
        return values

    dates = take(_DATE_DMY, lambda m: _date(int(m[3]), int(m[2]), int(m[1])))
    dates += take(_DATE_ISO, lambda m: _date(int(m[1]), int(m[2]), int(m[3])))
    dates += take(
        _DATE_WORDS, lambda m: _MONTHS.get(m[2].lower()) and _date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    )
    found_date = date_of_birth or (dates[0] if dates else None)
    references = take(_REFERENCE, lambda m: m[1].upper())
    identifiers = take(_PNC, lambda m: normalise_identifier(f"{m[1]}/{m[2]}{m[3]}"))
    identifiers += take(_NHS, lambda m: m[1] + m[2] + m[3])
    postcodes = take(_POSTCODE, lambda m: normalise_postcode(m[1] + m[2]))
    words = []
    for token in rest.split():
        if any(ch.isdigit() for ch in token):
            if len(normalise_identifier(token)) >= 4:
                identifiers.append(normalise_identifier(token))
        else:
            words.append(token)
    return ParsedQuery(
        name=normalise_name(" ".join(words)),
        date_of_birth=found_date,
        postcode=postcodes[0] if postcodes else "",
        identifiers=tuple(dict.fromkeys(identifiers)),
        references=tuple(dict.fromkeys(references)),
    )


def _words(name: str) -> list[str]:
    return list(dict.fromkeys(w for w in name.split() if len(w) >= WORD_MIN_LENGTH))[:WORDS_MAX]


# pg_trgm's thresholds for the indexable operators, sent in the same round trip as the query
# that uses them (a multi-statement string: one implicit transaction in autocommit, so they
# end with it). The first two are pg_trgm's defaults; only ``<<%`` (used by nothing else)
# gets a non-default threshold.
_THRESHOLDS = (
    f"SELECT set_config('pg_trgm.similarity_threshold', '{SIMILARITY_THRESHOLD}', true),"
    f" set_config('pg_trgm.word_similarity_threshold', '{WORD_SIMILARITY_THRESHOLD}', true),"
    f" set_config('pg_trgm.strict_word_similarity_threshold', '{STRICT_WORD_SIMILARITY_THRESHOLD}', true)"
)


def _indexed_name_sql(name: str, column: str) -> tuple[str, list]:
    """The name condition through the GIN trigram index (see the module docstring)."""
    words = _words(name)
    if len(words) >= 2:  # column %>> word, i.e. word <<% column, for every word: a BitmapAnd in the index
        return "(" + " AND ".join(f"{column} %%>> %s" for _ in words) + ")", list(words)
    if len(name.split()) == 1:
        return f"(%s <%% {column})", [name]
    return f"({column} %% %s OR %s <%% {column})", [name, name]


def _lenient_name_sql(name: str, column: str) -> tuple[str, list]:
    """On rows already narrowed (date of birth, postcode, one profile's aliases): the
    functions, no index: whole-name or word similarity, or every word matching."""
    sql = (
        f"(similarity({column}, %s) >= {SIMILARITY_THRESHOLD}"
        f" OR word_similarity(%s, {column}) >= {WORD_SIMILARITY_THRESHOLD}"
    )
    params: list = [name, name]
    words = _words(name)
    if words:
        sql += (
            " OR ("
            + " AND ".join(f"strict_word_similarity(%s, {column}) >= {STRICT_WORD_SIMILARITY_THRESHOLD}" for _ in words)
            + ")"
        )
        params += words
    return sql + ")", params


def _score_sql(column: str) -> str:
    return f"GREATEST(similarity({column}, %s), word_similarity(%s, {column}))"


def _run(sql: str, params: list, *, prelude: str = "") -> list[tuple]:
    """One round trip; ``prelude`` statements (``SET``-like, one result each) go first; the
    rows are those of the first statement of ``sql``."""
    with connection.cursor() as cursor:
        cursor.execute(f"{prelude}; {sql}" if prelude else sql, params)
        for _ in range(prelude.count(";") + 1 if prelude else 0):
            cursor.nextset()
        return cursor.fetchall()


def _alias_hits(name: str) -> dict[int, float]:
    """Profile id -> best alias score. Not filtered by visibility: only ever used *inside*
    the visible profiles' query, never shown or counted on its own.

    The planner costs ``<%`` like a cheap operator and so prefers a sequential scan of the
    alias table (about 57 ms for 20,000 aliases, computing word similarity on each) over
    its GIN index (about 6 ms); ``enable_seqscan`` is turned off for this statement only."""
    condition, params = _indexed_name_sql(name, "search_name")
    rows = _run(
        # No GROUP BY: the planner would then walk the profile_id index over every alias.
        f"SELECT profile_id, {_score_sql('search_name')} AS score FROM casework_profilealias"
        f" WHERE {condition} ORDER BY score DESC LIMIT {EXACT_HITS_MAX};"
        " RESET enable_seqscan",  # in case a transaction is open: SET LOCAL would outlive the statement
        [name, name, *params],
        prelude=f"SET LOCAL enable_seqscan = off; {_THRESHOLDS}",
    )
    hits: dict[int, float] = {}
    for profile_id, score in rows:
        hits[profile_id] = max(score, hits.get(profile_id, 0.0))
    return hits


def _identifier_hits(identifiers: tuple[str, ...]) -> set[int]:
    if not identifiers:
        return set()
    return set(
        ProfileIdentifier.objects.filter(value__in=identifiers).values_list("profile_id", flat=True)[:EXACT_HITS_MAX]
    )


_VISIBLE_CACHE: dict[Scope, tuple[str, tuple]] = {}


def _visible_sql(user) -> tuple[str, tuple]:
    """``profiles_visible_to(user)``'s WHERE clause (on ``casework_profile``), compiled once
    per scope (teams, agency, admin setting): the same rule as every other list, as SQL."""
    scope = user_scope(user)
    cached = _VISIBLE_CACHE.get(scope)
    if cached is None:
        visible = profiles_visible_to(user)
        compiler = visible.query.get_compiler(using=visible.db)
        sql, params = compiler.compile(visible.query.where)
        cached = (sql or "TRUE", tuple(params))
        if len(_VISIBLE_CACHE) > 1000:
            _VISIBLE_CACHE.clear()
        _VISIBLE_CACHE[scope] = cached
    return cached


_COLUMNS = [f.column for f in Profile._meta.concrete_fields]
_SELECT = ", ".join(f'casework_profile."{column}"' for column in _COLUMNS)
_MARKER_LABELS = dict(WarningMarker.Kind.choices)


def profile_rows(*, user, query: ParsedQuery, limit: int = LIMIT) -> list[Profile]:
    """Visible profiles matching ``query``, best first, at most ``limit``, each with ``score``,
    ``total`` (the visibility-filtered count of every match, not just the first ``limit``),
    ``current_postcode_value`` and ``markers``: one SQL statement (see the module docstring).
    ``total`` stops at ``MATCHES_MAX + 1`` (``SearchResults.total_is_capped``)."""
    narrowed = bool(query.date_of_birth or query.postcode)
    if not (query.name or query.identifiers or narrowed):
        return []
    visible, visible_params = _visible_sql(user)
    where, params = [visible], list(visible_params)
    if query.date_of_birth:
        where.append("casework_profile.date_of_birth = %s")
        params.append(query.date_of_birth)
    if query.postcode:
        where.append("casework_profile.id IN (SELECT profile_id FROM casework_profileaddress WHERE postcode = %s)")
        params.append(query.postcode)
    # Narrowed to a few rows by date of birth or postcode: aliases are checked per row. Otherwise
    # their hits are fetched first, through their own GIN index, so that the profile query stays
    # an OR of index scans (a BitmapOr), never a sequential scan.
    aliases = _alias_hits(query.name) if query.name and not narrowed else {}
    exact = _identifier_hits(query.identifiers)
    alias_lenient, alias_lenient_params = _lenient_name_sql(query.name, "a.search_name") if query.name else ("", [])
    if query.name or query.identifiers:
        wanted, wanted_params = [], []
        if aliases or exact:
            wanted.append("casework_profile.id = ANY(%s)")
            wanted_params.append(sorted(set(aliases) | exact))
        if query.name and narrowed:
            condition, condition_params = _lenient_name_sql(query.name, "casework_profile.search_name")
            wanted.append(condition)
            wanted.append(
                "EXISTS (SELECT 1 FROM casework_profilealias a WHERE a.profile_id = casework_profile.id"
                f" AND {alias_lenient})"
            )
            wanted_params += condition_params + alias_lenient_params
        elif query.name:
            condition, condition_params = _indexed_name_sql(query.name, "casework_profile.search_name")
            wanted.append(condition)
            wanted_params += condition_params
        where.append("(" + " OR ".join(wanted or ["FALSE"]) + ")")
        params += wanted_params

    scores, score_params = ["0"], []
    if query.name:
        scores.append(_score_sql("casework_profile.search_name"))
        score_params += [query.name, query.name]
        if narrowed:
            scores.append(
                f"COALESCE((SELECT max({_score_sql('a.search_name')}) FROM casework_profilealias a"
                f" WHERE a.profile_id = casework_profile.id AND {alias_lenient}), 0)"
            )
            score_params += [query.name, query.name, *alias_lenient_params]
    if aliases:
        scores.append(
            "COALESCE((SELECT h.score FROM unnest(%s::bigint[], %s::float8[]) AS h(id, score)"
            " WHERE h.id = casework_profile.id), 0)"
        )
        score_params += [list(aliases), list(aliases.values())]
    if exact:
        scores.append("CASE WHEN casework_profile.id = ANY(%s) THEN 1 ELSE 0 END")
        score_params.append(sorted(exact))
    # The matches are ranked and counted up to MATCHES_MAX (+1, to know there are more): a
    # common surname with a typo matches ~10,000 profiles at 1M, and reading them all from the
    # heap costs ~300 ms. Past the cap the best ``limit`` of the first matches found are shown.
    sql = (
        "SELECT *, count(*) OVER () AS total,"
        " (SELECT postcode FROM casework_profileaddress WHERE profile_id = casework_profile.id"
        "  ORDER BY is_current DESC, id LIMIT 1) AS current_postcode_value,"
        " ARRAY(SELECT kind FROM casework_warningmarker WHERE profile_id = casework_profile.id ORDER BY id)"
        "  AS marker_kinds"
        f" FROM (SELECT {_SELECT}, GREATEST({', '.join(scores)})::float8 AS score"
        f"  FROM casework_profile WHERE {' AND '.join(where)} LIMIT {MATCHES_MAX + 1}) AS casework_profile"
        " ORDER BY score DESC, casework_profile.search_name, casework_profile.id LIMIT %s"
    )
    # The indexed operators need the thresholds; the narrowed query uses the functions only.
    prelude = _THRESHOLDS if (query.name and not narrowed) else ""
    rows = _run(sql, [*score_params, *params, limit], prelude=prelude)
    profiles = []
    width = len(_COLUMNS)
    for row in rows:
        profile = Profile.from_db(connection.alias, _COLUMNS, row[:width])
        profile.score, profile.total, profile.current_postcode_value, kinds = row[width:]
        profile.markers = [_MARKER_LABELS.get(kind, kind) for kind in kinds or ()]
        profiles.append(profile)
    return profiles


def find(*, user, query: str, date_of_birth: dt.date | None = None, limit: int = LIMIT) -> SearchResults:
    """Run a search (no audit: ``search_run`` in ``services`` records it). Read-only, so no
    transaction of its own: each statement sees a consistent snapshot."""
    parsed = parse_query(query, date_of_birth)
    results = SearchResults(query=parsed)
    if parsed.is_empty:
        return results
    results.profiles = profile_rows(user=user, query=parsed, limit=limit)
    counted = results.profiles[0].total if results.profiles else 0
    results.profile_total = min(counted, MATCHES_MAX)
    results.profile_total_capped = counted > MATCHES_MAX
    if parsed.references:
        cases = cases_visible_to(user).filter(reference__in=parsed.references).select_related("case_type")
        results.cases = list(cases.annotate(total=Window(Count("pk"))).order_by("reference")[:limit])
        results.case_total = results.cases[0].total if results.cases else 0
    return results


def current_postcode(profile: Profile) -> str:
    """The current (else latest) postcode of a profile returned by ``find``."""
    return getattr(profile, "current_postcode_value", None) or ""
