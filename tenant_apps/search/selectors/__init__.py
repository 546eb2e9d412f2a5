"""One search box: profiles by name (misspellings forgiven), alias, date of birth,
identifier and postcode; cases by reference. Every result and every count comes from
``profiles_visible_to`` / ``cases_visible_to``, so a search says nothing about records
the user may not see.

How a query is read (``query.parse_query``): UK dates (17/05/2001, 17-5-2001, 17 May 2001,
2001-05-17) become the date of birth; case references (ASB-2026-0001, any case),
postcodes (any spacing or case), PNC numbers (01/123456A) and NHS numbers (with or
without spaces) are taken out; other tokens holding a digit are tried as identifiers;
what is left is the name.

Profiles: name matches OR alias matches OR identifier matches; a date of birth and a
postcode narrow them (AND). A date of birth alone lists that date's profiles; a postcode
alone, that postcode's.

Name alone (``names``): every word of the query (of two letters or more) is matched to
the words of the lexicon: the same word, one or two edits (dropped, added, substituted or
swapped letters; one for three-letter words), the same Double Metaphone code, or a word it
begins. The profile must hold an answer to every query word (``string_to_array(search_name,
' ') && ARRAY[...]`` per word, ANDed: the GIN index ``casework_profile_name_words``, a
BitmapAnd for several words). Aliases are matched the same way first, through their own
word index. A query of only one-letter words keeps pg_trgm's whole-name similarity
(``search_name % q``, >= 0.3, the trigram index).

With a date of birth or a postcode the planner starts from those (the
``(date_of_birth, search_name)`` index: a few dozen rows per date at 1M profiles) and the
words are checked on those rows in SQL (``levenshtein_less_equal``, ``dmetaphone``), or
leniently by pg_trgm's functions as before (whole-name similarity >= 0.3, word similarity
>= 0.6, or every word's strict word similarity >= 0.28). Each row's name, and each of its
aliases, is scored once (a LATERAL subquery: one pass over its words), the condition and the
score read from it; the visibility rule is checked on the matching rows only
(``_narrowed_sql``).

Results are ordered by score (``names``: an exact word 1.0, one edit 0.8, two 0.6, the
mean over the query words, so the first name agreeing helps; an alias or identifier hit
counts too), capped at ``LIMIT``. The profile search is one SQL statement (``profile_rows``),
written out rather than built with the ORM (building and compiling the queryset cost more
than running it), with the visibility rule compiled from ``profiles_visible_to`` once per
scope. It also counts the matches (``count(*) OVER ()``, after the visibility filter) up to
``MATCHES_MAX`` (past it: "more than 1,000"), and brings the shown rows' current postcode
and warning markers (no prefetch). Round trips: one with a date of birth or a postcode;
three with a name alone (the lexicon, the aliases, the profiles); one more for
identifiers, one for case references.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Window

from tenant_apps.casework.models import Profile, ProfileIdentifier, WarningMarker
from tenant_apps.casework.selectors import Scope, cases_visible_to, profiles_visible_to, user_scope
from tenant_apps.search.selectors.names import NameMatches, name_matches, narrowed_word_terms, similar_words
from tenant_apps.search.selectors.query import QUERY_MAX_LENGTH, ParsedQuery, parse_query

__all__ = [
    "LIMIT",
    "MATCHES_MAX",
    "QUERY_MAX_LENGTH",
    "ParsedQuery",
    "SearchResults",
    "current_postcode",
    "find",
    "parse_query",
    "profile_rows",
]

LIMIT = 50
SIMILARITY_THRESHOLD = 0.3  # whole name: "jon smyth" ~ "john smith" is 0.31
WORD_SIMILARITY_THRESHOLD = 0.6  # part of a name: "brenan" in "kyle brennan" is 0.67
STRICT_WORD_SIMILARITY_THRESHOLD = 0.28  # each word of several: "jon" ~ "john smith" is 0.29
WORD_MIN_LENGTH = 2  # shorter words (initials) only count in the score
WORDS_MAX = 6
EXACT_HITS_MAX = 500  # alias and identifier hits carried into the profile query
MATCHES_MAX = 1000  # matches ranked and counted; past it the total is "more than 1,000"
SCORED_MAX = 4000  # rows scored by the several-word query ("Lewis Lowis": every Lewis answers both)


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


def _words(name: str) -> list[str]:
    return list(dict.fromkeys(w for w in name.split() if len(w) >= WORD_MIN_LENGTH))[:WORDS_MAX]


# pg_trgm's threshold for ``%`` (its default), sent in the same round trip as the query that
# uses it (a multi-statement string: one implicit transaction in autocommit, so it ends with it).
_THRESHOLDS = f"SELECT set_config('pg_trgm.similarity_threshold', '{SIMILARITY_THRESHOLD}', true)"
_WORDS = "string_to_array({column}, ' ')"  # the expression of the name-word GIN indexes


def _matches_sql(matches: NameMatches, column: str) -> tuple[str, list]:
    """Every query word answered by a word of the name: through the name-word GIN index."""
    words = _WORDS.format(column=column)
    return "(" + " AND ".join(f"{words} && %s::text[]" for _ in matches.words) + ")", matches.arrays()


SCORED_NAME_WORDS = 4  # the first words of a name that score (all of them match)


def _matches_score_sql(matches: NameMatches, column: str) -> tuple[str, list]:
    """``NameMatches.score`` in SQL: per query word the best score of the name's first
    ``SCORED_NAME_WORDS`` words (jsonb look-ups, no subquery: thousands of rows may be
    scored), averaged."""
    words = _WORDS.format(column=column)
    terms, params = [], []
    for scores in matches.json_scores():
        looks = ", ".join(f"(%s::jsonb ->> ({words})[{n}])::float8" for n in range(1, SCORED_NAME_WORDS + 1))
        terms.append(f"COALESCE(GREATEST({looks}), 0)")
        params += [scores] * SCORED_NAME_WORDS
    return f"(({' + '.join(terms)}) / {len(matches.words)})", params


def _run(sql: str, params: list, *, prelude: str = "") -> list[tuple]:
    """One round trip; ``prelude`` statements (``SET``-like, one result each) go first; the
    rows are those of the first statement of ``sql``."""
    with connection.cursor() as cursor:
        cursor.execute(f"{prelude}; {sql}" if prelude else sql, params)
        for _ in range(prelude.count(";") + 1 if prelude else 0):
            cursor.nextset()
        return cursor.fetchall()


@dataclass(frozen=True)
class _AliasHit:
    score: float
    name: str


def _alias_hits(name: str, matches: NameMatches | None) -> dict[int, _AliasHit]:
    """Profile id -> best alias (score, alias as written). Not filtered by visibility: only
    ever used *inside* the visible profiles' query, never shown or counted on its own.

    Through the aliases' word index (``casework_alias_name_words``), or for a name of
    one-letter words only, their trigram index; ``enable_seqscan`` is off for this statement
    only (the planner costs the operators as cheap and would read every alias)."""
    if matches is not None:
        if not matches.found:
            return {}
        condition, params = _matches_sql(matches, "search_name")
        rows = _run(
            f"SELECT profile_id, name, search_name FROM casework_profilealias WHERE {condition} LIMIT {EXACT_HITS_MAX}",
            params,
        )
        scored = [(profile_id, matches.score(search_name), alias) for profile_id, alias, search_name in rows]
    else:
        rows = _run(
            f"SELECT profile_id, name, similarity(search_name, %s) FROM casework_profilealias"
            f" WHERE search_name %% %s LIMIT {EXACT_HITS_MAX}; RESET enable_seqscan",
            [name, name],
            prelude=f"SET LOCAL enable_seqscan = off; {_THRESHOLDS}",
        )
        scored = [(profile_id, score, alias) for profile_id, alias, score in rows]
    hits: dict[int, _AliasHit] = {}
    for profile_id, score, alias in scored:
        if profile_id not in hits or score > hits[profile_id].score:
            hits[profile_id] = _AliasHit(score=score, name=alias)
    return hits


def _identifier_hits(identifiers: tuple[str, ...]) -> set[int]:
    if not identifiers:
        return set()
    return set(
        ProfileIdentifier.objects.filter(value__in=identifiers).values_list("profile_id", flat=True)[:EXACT_HITS_MAX]
    )


_VISIBLE_CACHE: dict[Scope, tuple[str, tuple, str, dict]] = {}
_PLACEHOLDER = re.compile(r"%%|%s")


def _visible(user) -> tuple[str, tuple, str, dict]:
    """``profiles_visible_to(user)``'s WHERE clause (on ``casework_profile``), compiled once
    per scope (teams, agency, admin setting): the same rule as every other list, as SQL; with
    positional parameters, then with named ones (``%(visible0)s``...)."""
    scope = user_scope(user)
    cached = _VISIBLE_CACHE.get(scope)
    if cached is None:
        visible = profiles_visible_to(user)
        compiler = visible.query.get_compiler(using=visible.db)
        sql, params = compiler.compile(visible.query.where)
        sql, params = sql or "TRUE", tuple(params)
        numbers = iter(range(len(params)))
        named = _PLACEHOLDER.sub(lambda m: m[0] if m[0] == "%%" else f"%(visible{next(numbers)})s", sql)
        cached = (sql, params, named, {f"visible{n}": value for n, value in enumerate(params)})
        if len(_VISIBLE_CACHE) > 1000:
            _VISIBLE_CACHE.clear()
        _VISIBLE_CACHE[scope] = cached
    return cached


_COLUMNS = [f.column for f in Profile._meta.concrete_fields]
_SELECT = ", ".join(f'casework_profile."{column}"' for column in _COLUMNS)
_MARKER_LABELS = dict(WarningMarker.Kind.choices)
# The profile statement around its inner query (the ranked, counted matches): the first
# ``limit`` with the total, the current postcode and the warning markers.
_RESULT = (
    "SELECT *, count(*) OVER () AS total,"
    " (SELECT postcode FROM casework_profileaddress WHERE profile_id = casework_profile.id"
    "  ORDER BY is_current DESC, id LIMIT 1) AS current_postcode_value,"
    " ARRAY(SELECT kind FROM casework_warningmarker WHERE profile_id = casework_profile.id ORDER BY id)"
    "  AS marker_kinds"
    " FROM ({inner}) AS casework_profile"
    " ORDER BY score DESC, casework_profile.search_name, casework_profile.id LIMIT {limit}"
)


TIERS_MAX = 4  # branches of the tiered query; the words past them share the last one


def _tiers_sql(
    matches: NameMatches, where: list[str], params: list, score_sql: str, score_params: list, hits: list[int]
) -> tuple[str, list]:
    """One query word: its words grouped by score, best first, each group a branch of a
    ``UNION ALL`` under the ``LIMIT``, so PostgreSQL stops reading once ``MATCHES_MAX + 1``
    rows are found ("smiht": the first ~1,000 visible Smiths, the Smyths never read). Alias
    and identifier hits come first; each branch leaves out the rows of those before it, so a
    branch whose words share one score gives that score as a constant (nothing per row)."""
    (scores,) = matches.scores
    groups: list[list[str]] = []
    group_scores: list[set[float]] = []
    for word, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
        if not groups or (score not in group_scores[-1] and len(groups) < TIERS_MAX):
            groups.append([])
            group_scores.append(set())
        groups[-1].append(word)
        group_scores[-1].add(score)
    words = _WORDS.format(column="casework_profile.search_name")
    branches, branch_params = [], []
    base = " AND ".join(where)
    if hits:
        branches.append(
            f"SELECT {_SELECT}, {score_sql} AS score FROM casework_profile"
            f" WHERE {base} AND casework_profile.id = ANY(%s)"
        )
        branch_params += [*score_params, *params, hits]
    seen: list[str] = []
    for group, its_scores in zip(groups, group_scores, strict=True):
        if len(its_scores) == 1:
            this_score, this_score_params = f"{next(iter(its_scores))!r}::float8", []
        else:
            this_score, this_score_params = score_sql, score_params
        condition = f"{words} && %s::text[]"
        condition_params: list = [group]
        if seen:
            condition += f" AND NOT {words} && %s::text[]"
            condition_params.append(list(seen))
        if hits:
            condition += " AND casework_profile.id <> ALL(%s)"
            condition_params.append(hits)
        branches.append(
            f"(SELECT {_SELECT}, {this_score} AS score FROM casework_profile WHERE {base} AND {condition}"
            f" LIMIT {MATCHES_MAX + 1})"
        )
        branch_params += [*this_score_params, *params, *condition_params]
        seen += group
    if hits:
        branches[0] = f"({branches[0]} LIMIT {MATCHES_MAX + 1})"
    return f"SELECT * FROM ({' UNION ALL '.join(branches)}) AS tiers LIMIT {MATCHES_MAX + 1}", branch_params


def _narrowed_name_sql(column: str, terms: list[str], match: str) -> tuple[str, str, str]:
    """On rows narrowed by a date of birth or a postcode (a few dozen at 1M profiles), for a
    name ``column``: a LATERAL subquery computing once per row its whole-name and word
    similarity to the query (``sim``, ``wsim``: pg_trgm, lenient as before) and each query
    word's best score among its words (``t1``...: ``narrowed_word_terms``); then the condition
    and the score over them, as ``match`` (the subquery's alias): (subquery, condition, score)."""
    items = [f"similarity({column}, %(name)s) AS sim", f"word_similarity(%(name)s, {column}) AS wsim"]
    items += [f"{term} AS t{n}" for n, term in enumerate(terms, start=1)]
    lateral = f"(SELECT {', '.join(items)}" + (f" FROM unnest({_WORDS.format(column=column)}) AS w)" if terms else ")")
    numbers = range(1, len(terms) + 1)
    lenient = f"{match}.sim >= {SIMILARITY_THRESHOLD} OR {match}.wsim >= {WORD_SIMILARITY_THRESHOLD}"
    if terms:
        lenient += (
            " OR ("
            + " AND ".join(
                f"strict_word_similarity(%(w{n})s, {column}) >= {STRICT_WORD_SIMILARITY_THRESHOLD}" for n in numbers
            )
            + ")"
        )
    spelt = "(" + " AND ".join(f"{match}.t{n} > 0" for n in numbers) + ")" if terms else "FALSE"
    spelt_score = (
        "((" + " + ".join(f"COALESCE({match}.t{n}, 0)" for n in numbers) + f") / {len(terms)})" if terms else "0"
    )
    return lateral, f"(({lenient}) OR {spelt})", f"GREATEST(GREATEST({match}.sim, {match}.wsim), {spelt_score})"


def _narrowed_sql(user, query: ParsedQuery, words: list[str], exact: set[int]) -> tuple[str, dict]:
    """A name with a date of birth or a postcode: the profile query's inner statement (named
    parameters, each sent once). Each row's name, and each of its aliases, is scored once
    (``_narrowed_name_sql``); a row is kept if its name or an alias answers (the alias
    subquery's best score is not null) or it is an identifier hit. The visibility rule comes
    after, on the few matching rows, in a LATERAL subquery of its own (``OFFSET 0``: not
    merged into the date's index scan), so that each row's shares are one index look-up
    rather than a hash of every share of the scope built first (0.3 ms at 1M profiles)."""
    visible, params = _visible(user)[2:]
    terms, word_params = narrowed_word_terms(words)
    params = {**params, **word_params, "name": query.name}
    where = []
    if query.date_of_birth:
        where.append("casework_profile.date_of_birth = %(date_of_birth)s")
        params["date_of_birth"] = query.date_of_birth
    if query.postcode:
        where.append(
            "casework_profile.id IN (SELECT profile_id FROM casework_profileaddress WHERE postcode = %(postcode)s)"
        )
        params["postcode"] = query.postcode
    name, name_condition, name_score = _narrowed_name_sql("casework_profile.search_name", terms, "name_match")
    alias, alias_condition, alias_score = _narrowed_name_sql("a.search_name", terms, "alias_words")
    wanted = [name_condition, "alias_match.score IS NOT NULL"]
    scores = ["0", name_score, "COALESCE(alias_match.score, 0)"]
    if exact:
        wanted.insert(0, "casework_profile.id = ANY(%(hits)s)")
        params["hits"] = sorted(exact)
        scores.append("CASE WHEN %(exact)s::jsonb ? casework_profile.id::text THEN 1 ELSE 0 END")
        params["exact"] = json.dumps({str(profile_id): 1 for profile_id in sorted(exact)})
    rows = (
        f"SELECT {_SELECT}, GREATEST({', '.join(scores)})::float8 AS score FROM casework_profile"
        f" CROSS JOIN LATERAL {name} AS name_match"
        f" LEFT JOIN LATERAL (SELECT max({alias_score}) AS score FROM casework_profilealias a"
        f" CROSS JOIN LATERAL {alias} AS alias_words"
        f" WHERE a.profile_id = casework_profile.id AND {alias_condition}) AS alias_match ON TRUE"
        f" WHERE {' AND '.join(where)} AND ({' OR '.join(wanted)}) OFFSET 0"
    )
    inner = (
        f"SELECT * FROM (SELECT casework_profile.* FROM ({rows}) AS casework_profile"
        f" CROSS JOIN LATERAL (SELECT WHERE {visible} OFFSET 0) AS visible LIMIT {SCORED_MAX})"
        f" AS casework_profile ORDER BY score DESC LIMIT {MATCHES_MAX + 1}"
    )
    return inner, params


def profile_rows(*, user, query: ParsedQuery, limit: int = LIMIT) -> list[Profile]:
    """Visible profiles matching ``query``, best first, at most ``limit``, each with ``score``,
    ``total`` (the visibility-filtered count of every match, not just the first ``limit``),
    ``current_postcode_value``, ``markers``, ``similar_name`` (the name's words that answered
    a misspelt query word: "Kowalski") and ``alias_match`` (the alias that matched): one SQL
    statement after the name look-ups (see the package docstring). ``total`` stops at
    ``MATCHES_MAX + 1`` (``SearchResults.profile_total_capped``)."""
    narrowed = bool(query.date_of_birth or query.postcode)
    if not (query.name or query.identifiers or narrowed):
        return []
    words = _words(query.name)
    if query.name and narrowed:
        # Narrowed to a few rows by date of birth or postcode: names and aliases are checked per row.
        exact = _identifier_hits(query.identifiers)
        inner, named = _narrowed_sql(user, query, words, exact)
        rows = _run(_RESULT.format(inner=inner, limit="%(limit)s"), {**named, "limit": limit})
        return _profiles(rows, words=words, aliases={}, matches=None)
    visible, visible_params = _visible(user)[:2]
    where, params = [visible], list(visible_params)
    if query.date_of_birth:
        where.append("casework_profile.date_of_birth = %s")
        params.append(query.date_of_birth)
    if query.postcode:
        where.append("casework_profile.id IN (SELECT profile_id FROM casework_profileaddress WHERE postcode = %s)")
        params.append(query.postcode)
    base_where, base_params = list(where), list(params)
    # The lexicon proposes the words, and alias hits are fetched first through their own index,
    # so that the profile query stays an OR of index scans (a BitmapOr), never a sequential scan.
    matches = name_matches(words) if query.name and words and not narrowed else None
    aliases = _alias_hits(query.name, matches) if query.name and not narrowed else {}
    exact = _identifier_hits(query.identifiers)
    scores, score_params = ["0"], []
    if query.name or query.identifiers:
        wanted, wanted_params = [], []
        if aliases or exact:
            wanted.append("casework_profile.id = ANY(%s)")
            wanted_params.append(sorted(set(aliases) | exact))
        if matches is not None:
            if matches.found:
                condition, condition_params = _matches_sql(matches, "casework_profile.search_name")
                wanted.append(condition)
                wanted_params += condition_params
                score, this_score_params = _matches_score_sql(matches, "casework_profile.search_name")
                scores.append(score)
                score_params += this_score_params
        elif query.name:  # one-letter words only: whole-name trigram similarity
            wanted.append("casework_profile.search_name %% %s")
            wanted_params.append(query.name)
            scores.append("similarity(casework_profile.search_name, %s)")
            score_params.append(query.name)
        where.append("(" + " OR ".join(wanted or ["FALSE"]) + ")")
        params += wanted_params
    if aliases:
        scores.append(
            "COALESCE((%s::jsonb ->> casework_profile.id::text)::float8, 0)"  # a look-up, not a scan per row
        )
        score_params.append(json.dumps({str(profile_id): hit.score for profile_id, hit in aliases.items()}))
    if exact:
        scores.append("CASE WHEN %s::jsonb ? casework_profile.id::text THEN 1 ELSE 0 END")
        score_params.append(json.dumps({str(profile_id): 1 for profile_id in sorted(exact)}))
    # The matches are ranked and counted up to MATCHES_MAX (+1, to know there are more): a
    # common surname with a typo matches ~20,000 profiles at 1M. The best are kept, so an exact
    # surname comes before its many near neighbours: one word alone is read tier by tier (below);
    # otherwise the inner query scores every match (the words' BitmapAnd keeps them few).
    score_sql = f"GREATEST({', '.join(scores)})::float8"
    if matches is not None and len(matches.words) == 1 and matches.found:
        inner, inner_params = _tiers_sql(
            matches, base_where, base_params, score_sql, score_params, sorted(set(aliases) | exact)
        )
    else:
        inner = (
            f"SELECT *, {score_sql} AS score FROM (SELECT {_SELECT} FROM casework_profile"
            f" WHERE {' AND '.join(where)} LIMIT {SCORED_MAX}) AS casework_profile"
            f" ORDER BY score DESC LIMIT {MATCHES_MAX + 1}"
        )
        inner_params = [*score_params, *params]
    sql = _RESULT.format(inner=inner, limit="%s")
    prelude = _THRESHOLDS if (query.name and not narrowed and matches is None) else ""
    if matches is not None:
        # A common first name's neighbours ("jack": jake, jane, jade...) are costed as a large
        # share of the table, and the planner would read all of it; the word indexes are
        # always cheaper here. Off for this statement only (RESET in the same round trip).
        prelude, sql = "SET LOCAL enable_seqscan = off", f"{sql}; RESET enable_seqscan"
    rows = _run(sql, [*inner_params, limit], prelude=prelude)
    return _profiles(rows, words=words, aliases=aliases, matches=matches)


def _profiles(rows: list[tuple], *, words: list[str], aliases: dict[int, _AliasHit], matches) -> list[Profile]:
    profiles = []
    width = len(_COLUMNS)
    for row in rows:
        profile = Profile.from_db(connection.alias, _COLUMNS, row[:width])
        profile.score, profile.total, profile.current_postcode_value, kinds = row[width:]
        profile.markers = [_MARKER_LABELS.get(kind, kind) for kind in kinds or ()]
        alias = aliases.get(profile.pk)
        name_score = matches.score(profile.search_name) if matches is not None else None
        profile.alias_match = alias.name if alias and (name_score is None or alias.score > name_score) else ""
        profile.similar_name = "" if profile.alias_match or not words else similar_words(words, profile.display_name)
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
