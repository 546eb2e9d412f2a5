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

Name matching uses the GIN trigram index ``casework_profile_name_trgm`` through two
indexable operators, set per transaction with ``SET LOCAL``:

- ``search_name % q`` (similarity >= 0.3): whole names, any word order ("Jon Smyth"
  finds "john smith" at 0.31);
- ``q <% search_name`` (word similarity >= 0.6): part of a name ("Brenan" finds
  "kyle brennan" at 0.67).

With a date of birth the planner starts from the (date_of_birth, search_name) index
(a few dozen rows per date at 1M profiles) and only checks similarity on those.
Results are ordered by the better of the two scores, capped at ``LIMIT``; the total is
counted in the same query (``count(*) OVER ()``), after the visibility filter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import Case, Count, Exists, FloatField, OuterRef, Prefetch, Q, Subquery, Value, When, Window
from django.db.models.functions import Coalesce, Greatest

from tenant_apps.casework.models import (
    Profile,
    ProfileAddress,
    ProfileAlias,
    ProfileIdentifier,
    normalise_identifier,
    normalise_name,
    normalise_postcode,
)
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to

LIMIT = 50
SIMILARITY_THRESHOLD = 0.3  # whole name: "jon smyth" ~ "john smith" is 0.31
WORD_SIMILARITY_THRESHOLD = 0.6  # part of a name: "brenan" in "kyle brennan" is 0.67
EXACT_HITS_MAX = 500  # alias and identifier hits carried into the profile query
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
    cases: list = field(default_factory=list)
    case_total: int = 0

    @property
    def total(self) -> int:
        return self.profile_total + self.case_total

    @property
    def truncated(self) -> bool:
        return self.profile_total > len(self.profiles) or self.case_total > len(self.cases)


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


def _set_thresholds() -> None:
    """Per transaction only (``SET LOCAL``): other queries on the connection keep the defaults."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true),"
            " set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(SIMILARITY_THRESHOLD), str(WORD_SIMILARITY_THRESHOLD)],
        )


def _name_q(name: str) -> Q:
    # search_name % name  OR  name <% search_name (both use the GIN trigram index)
    return Q(search_name__trigram_similar=name) | Q(search_name__trigram_word_similar=name)


def _alias_hits(name: str) -> dict[int, float]:
    """Profile id -> best alias score. Not filtered by visibility: only ever used *inside*
    ``profiles_visible_to(...)``, never shown or counted on its own."""
    rows = (
        ProfileAlias.objects.filter(_name_q(name))
        .annotate(score=Greatest(TrigramSimilarity("search_name", name), TrigramWordSimilarity(name, "search_name")))
        .order_by("-score")
        .values_list("profile_id", "score")[:EXACT_HITS_MAX]
    )
    hits: dict[int, float] = {}
    for profile_id, score in rows:
        hits[profile_id] = max(score, hits.get(profile_id, 0.0))
    return hits


def _alias_rows(name: str):
    """The outer profile's aliases matching ``name``, best first (for a narrowed search)."""
    return (
        ProfileAlias.objects.filter(_name_q(name), profile_id=OuterRef("pk"))
        .annotate(score=Greatest(TrigramSimilarity("search_name", name), TrigramWordSimilarity(name, "search_name")))
        .order_by("-score")
    )


def _identifier_hits(identifiers: tuple[str, ...]) -> set[int]:
    if not identifiers:
        return set()
    return set(
        ProfileIdentifier.objects.filter(value__in=identifiers).values_list("profile_id", flat=True)[:EXACT_HITS_MAX]
    )


def profile_queryset(*, user, query: ParsedQuery):
    """Visible profiles matching ``query``, best first, each with ``score`` and ``total``
    (the visibility-filtered count of every match, not just the first ``LIMIT``).
    Run it inside a transaction after ``_set_thresholds()`` (as ``find`` does)."""
    profiles = profiles_visible_to(user)
    if query.date_of_birth:
        profiles = profiles.filter(date_of_birth=query.date_of_birth)
    if query.postcode:
        profiles = profiles.filter(pk__in=ProfileAddress.objects.filter(postcode=query.postcode).values("profile_id"))
    narrowed = bool(query.date_of_birth or query.postcode)
    # Narrowed to a few rows by date of birth or postcode: aliases are checked per row (EXISTS on
    # the alias's profile_id). Otherwise their hits are fetched first, through their own GIN index,
    # so that the profile query stays an OR of index scans (a BitmapOr), never a sequential scan.
    aliases = _alias_hits(query.name) if query.name and not narrowed else {}
    exact = _identifier_hits(query.identifiers)
    if query.name or query.identifiers:
        wanted = Q(pk__in=sorted(set(aliases) | exact)) if (aliases or exact) else Q(pk__in=[])
        if query.name:
            wanted |= _name_q(query.name)
            if narrowed:
                wanted |= Q(Exists(_alias_rows(query.name)))
        profiles = profiles.filter(wanted)
    elif not narrowed:
        return profiles.none()

    scores = [Value(0.0)]
    if query.name:
        scores += [TrigramSimilarity("search_name", query.name), TrigramWordSimilarity(query.name, "search_name")]
        if narrowed:
            scores.append(Coalesce(Subquery(_alias_rows(query.name).values("score")[:1]), Value(0.0)))
    if aliases:
        whens = [When(pk=pk, then=Value(score)) for pk, score in aliases.items()]
        scores.append(Case(*whens, default=Value(0.0), output_field=FloatField()))
    if exact:
        scores.append(Case(When(pk__in=sorted(exact), then=Value(1.0)), default=Value(0.0), output_field=FloatField()))
    score = Greatest(*scores, output_field=FloatField()) if len(scores) > 1 else scores[0]
    return profiles.annotate(score=score, total=Window(Count("pk"))).order_by("-score", "search_name", "pk")


def find(*, user, query: str, date_of_birth: dt.date | None = None, limit: int = LIMIT) -> SearchResults:
    """Run a search (no audit: ``search_run`` in ``services`` records it). Read-only."""
    parsed = parse_query(query, date_of_birth)
    results = SearchResults(query=parsed)
    if parsed.is_empty:
        return results
    with transaction.atomic():
        _set_thresholds()
        if parsed.name or parsed.identifiers or parsed.postcode or parsed.date_of_birth:
            rows = list(
                profile_queryset(user=user, query=parsed).prefetch_related(
                    Prefetch("addresses", queryset=ProfileAddress.objects.order_by("-is_current", "pk")),
                    "warnings",
                )[:limit]
            )
            results.profiles = rows
            results.profile_total = rows[0].total if rows else 0
        if parsed.references:
            cases = cases_visible_to(user).filter(reference__in=parsed.references).select_related("case_type")
            results.cases = list(cases.annotate(total=Window(Count("pk"))).order_by("reference")[:limit])
            results.case_total = results.cases[0].total if results.cases else 0
    return results


def current_postcode(profile: Profile) -> str:
    addresses = list(profile.addresses.all())  # prefetched, current first
    return addresses[0].postcode if addresses else ""
