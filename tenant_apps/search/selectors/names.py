"""Misspelt names: each word of the query matched to the words people's names hold.

The lexicon (``search_nameword`` and ``search_namekey``, migration
``search/0001_name_lexicon``) holds every word of every profile and alias name once, with
its deletion keys (the word with up to two letters taken out) and its Double Metaphone
codes. ``name_matches`` looks up the query words' own deletion keys, their phonetic codes
and (for four letters or more) the words they begin, in one round trip through b-tree
indexes; then each proposed word is checked here by its edit distance (optimal string
alignment: a dropped, added or substituted letter, or two neighbours swapped, is one edit)
and scored. The profile query then asks the GIN index of the profiles' name words
(``casework_profile_name_words``) for the profiles holding those words.

Two strings within ``k`` edits of each other share a key of ``k`` deletions or fewer each,
so every word within the allowed edits is proposed (the recall does not depend on a
similarity threshold, as pg_trgm's did: "ilroi" has 0.2 trigram similarity to "ilori", one
swap away).

Allowed edits by the length of the query word: two letters, none (initials, "li", "ng");
three letters, one; four or more, two. A phonetic match (same Double Metaphone code, four
letters or more) is accepted up to three edits ("fillips" for "phillips"); a query word of
four letters or more also matches the words it begins ("kowal" for "kowalski").

Scores of a word (``word_score``): the same word 1.0; one edit 0.8, two 0.6, phonetic only
0.45, beginning only 0.4; plus 0.06 when the codes agree as well and 0.01 per letter of
common beginning (up to three), so an exact word always ranks first and one edit above two.
A profile's score is the mean over the query words of its best word's score: the first name
agreeing lifts a profile above namesakes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection

from tenant_apps.casework.models import normalise_name

PHONETIC_MIN_LENGTH = 4
PHONETIC_EDITS_MAX = 3
PREFIX_MIN_LENGTH = 4
PREFIX_WORDS_MAX = 30  # words proposed for a beginning ("smit": smith, smithers, smithson...)
CANDIDATES_MAX = 120  # best-scoring words kept per query word


def edits_allowed(word: str) -> int:
    """Edits a query word may carry and still match a name's word."""
    if len(word) <= 2:
        return 0
    return 1 if len(word) == 3 else 2


def deletion_keys(word: str, radius: int) -> set[str]:
    """``word`` with up to ``radius`` (0-2) letters taken out, keys of two letters or more
    (and the word itself): the query side of ``search_deletion_keys`` in the migration."""
    keys = {word}
    frontier = {word}
    for _ in range(radius):
        frontier = {k[:i] + k[i + 1 :] for k in frontier for i in range(len(k))}
        keys |= frontier
    return {k for k in keys if len(k) >= 2 or k == word}


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap neighbours), or
    ``limit + 1`` once it is certainly above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _common_start(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def word_score(query_word: str, word: str, *, phonetic: bool = False) -> float:
    """How well ``word`` (of a name) answers ``query_word``; 0 if it does not."""
    if word == query_word:
        return 1.0
    distance = edit_distance(query_word, word, PHONETIC_EDITS_MAX)
    phonetic = phonetic and len(query_word) >= PHONETIC_MIN_LENGTH
    if distance <= edits_allowed(query_word):
        base = 0.8 if distance == 1 else 0.6
        bonus = 0.06 if phonetic else 0.0
    elif phonetic and distance <= PHONETIC_EDITS_MAX:
        base, bonus = 0.45, 0.0
    elif len(query_word) >= PREFIX_MIN_LENGTH and word.startswith(query_word):
        base, bonus = 0.4, 0.0
    else:
        return 0.0
    return round(base + bonus + 0.01 * min(3, _common_start(query_word, word)), 4)


@dataclass(frozen=True)
class NameMatches:
    """For each query word, the lexicon words that answer it and their scores."""

    words: tuple[str, ...]
    scores: tuple[dict[str, float], ...]

    @property
    def found(self) -> bool:
        """Every query word answered by some word (the profile query ANDs them)."""
        return bool(self.words) and all(self.scores)

    def arrays(self) -> list[list[str]]:
        return [sorted(scores) for scores in self.scores]

    def json_scores(self) -> list[str]:
        return [json.dumps(scores, sort_keys=True) for scores in self.scores]

    def score(self, search_name: str) -> float:
        """The score of a name (profile or alias) for these matches: see the module docstring."""
        name_words = search_name.split()
        return sum(max((s.get(w, 0.0) for w in name_words), default=0.0) for s in self.scores) / len(self.words)


_LOOKUP = """
WITH codes AS (
    SELECT q.i, '#' || v.code AS key
    FROM unnest(%(words)s::text[]) WITH ORDINALITY AS q(word, i),
         LATERAL (VALUES (dmetaphone(q.word)), (dmetaphone_alt(q.word))) AS v(code)
    WHERE length(q.word) >= %(phonetic_min)s AND v.code <> ''
)
SELECT 0, key, word FROM search_namekey WHERE key = ANY(%(keys)s::text[])
UNION ALL
SELECT codes.i, nk.key, nk.word FROM codes JOIN search_namekey nk ON nk.key = codes.key
"""
# One branch per word of four letters or more, its pattern a constant so that the planner
# reads the ``text_pattern_ops`` index for it.
_PREFIX = (
    "(SELECT {index}, '^', word FROM search_nameword WHERE word LIKE %(prefix{index})s ORDER BY word LIMIT {limit})"
)


def name_matches(words: list[str]) -> NameMatches:
    """The lexicon words answering each of ``words`` (normalised, distinct): one round trip."""
    keys_of = [deletion_keys(word, edits_allowed(word)) for word in words]
    owners: dict[str, list[int]] = {}
    for index, keys in enumerate(keys_of):
        for key in keys:
            owners.setdefault(key, []).append(index)
    sql = _LOOKUP
    params: dict[str, object] = {"words": list(words), "phonetic_min": PHONETIC_MIN_LENGTH, "keys": sorted(owners)}
    for index, word in enumerate(words, start=1):
        if len(word) >= PREFIX_MIN_LENGTH:
            sql += " UNION ALL " + _PREFIX.format(index=index, limit=PREFIX_WORDS_MAX)
            params[f"prefix{index}"] = word + "%"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    proposed: list[dict[str, bool]] = [{} for _ in words]  # word -> sounds alike
    for owner, key, word in rows:
        if owner == 0:
            for index in owners.get(key, ()):
                proposed[index].setdefault(word, False)
        elif key.startswith("#"):
            proposed[owner - 1][word] = True
        else:
            proposed[owner - 1].setdefault(word, False)
    scores = []
    for query_word, candidates in zip(words, proposed, strict=True):
        scored = {}
        for word, phonetic in candidates.items():
            score = word_score(query_word, word, phonetic=phonetic)
            if score > 0:
                scored[word] = score
        best = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:CANDIDATES_MAX]
        scores.append(dict(best))
    return NameMatches(words=tuple(words), scores=tuple(scores))


def similar_words(query_words: list[str], display: str) -> str:
    """The words of ``display`` (a name as shown) that answered a query word without being
    it ("Kowalski" for "kowlski"), for "Similar name: Kowalski"; empty if every query word
    is in the name as typed."""
    shown = [(normalise_name(part), part) for part in display.split()]
    shown = [(norm, part) for norm, part in shown if norm]
    if not shown:
        return ""
    names = {norm for norm, _ in shown}
    similar = []
    for query_word in query_words:
        if query_word in names:
            continue
        best = min(shown, key=lambda pair: (edit_distance(query_word, pair[0], 9), -len(pair[0])))
        if best[1] not in similar:
            similar.append(best[1])
    return " ".join(similar)


def narrowed_word_terms(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """For rows already narrowed (a date of birth, a postcode, one profile's aliases): the
    same word rules as ``word_score``, in SQL with ``levenshtein_less_equal`` and
    ``dmetaphone`` (no lexicon round trip). Per query word, an aggregate over the words ``w``
    of a name (``FROM unnest(...) AS w``): its best score, 0 if no word answers it; and the
    named parameters (``w1``, ``p1``... each sent once, however often the SQL reads it). A
    swap counts two edits here (Levenshtein), so it is found within a longer word's two."""
    terms, params = [], {}
    for index, word in enumerate(words, start=1):
        allowed = edits_allowed(word)
        term = (
            f"max(CASE WHEN w = %(w{index})s THEN 1.0"
            f" WHEN levenshtein_less_equal(%(w{index})s, w, {allowed}) <= {allowed}"
            f" THEN 1.0 - 0.2 * levenshtein_less_equal(%(w{index})s, w, {allowed})"
        )
        params[f"w{index}"] = word
        if len(word) >= PHONETIC_MIN_LENGTH:
            term += f" WHEN dmetaphone(w) = dmetaphone(%(w{index})s) THEN 0.45"
        if len(word) >= PREFIX_MIN_LENGTH:
            term += f" WHEN w LIKE %(p{index})s THEN 0.4"
            params[f"p{index}"] = word + "%"
        terms.append(term + " ELSE 0 END)")
    return terms, params
