"""Search at scale: ``tenant_apps.search`` over 1,000,000 profiles in one partnership.

Generation (timed, printed): ``INSERT ... SELECT`` over ``generate_series`` in the
bench partnership's schema, names drawn from the frequency lists below (made up
for this benchmark, heavy at the head: Smith, Jones, Williams...; a long tail of
syllable-built surnames), dates of birth spread over 1930-2010, owned half by the
searching user's team, a fifth by another team of their agency and the rest by
the police (some of those shared with the user's team), so the visibility filter
works as in production. 2% of profiles get an alias. The profile indexes are
dropped for the load and built again afterwards, then ``ANALYZE``.

First, recall (before the large set is made): one person per surname of
``data/uk_surnames.txt`` (common UK surnames, source in its header), then
``BENCH_SEARCH_MISSPELLINGS`` (10,000) misspellings of them (``misspellings``: one or two
dropped, added, swapped or substituted letters, two of any kind, or a phonetic respelling,
the kinds in turn), each searched alone; recall is the share that finds the intended person
on the first page (goal >= 0.95). Those people are removed before the large set is made.

Measured (in-process, the real selector code, ``tenant_apps.search.selectors.find``,
which is ``search_run`` without its audit insert), for sampled real profiles with
their surname misspelt (the same kinds in turn):

- name + date of birth (goal: p99 < 5 ms);
- surname alone (goal: p95 < 100 ms) and full name, half the samples each;
- baselines in the same run, same shape (visible, counted, first 50): an exact
  b-tree lookup ``search_name = '<exact name>'`` and ``search_name ILIKE '%<exact surname>%'``;
  each goal's figure is also printed as a ratio to the exact look-up's same percentile.

Knobs: ``BENCH_SEARCH_PROFILES`` (1000000), ``BENCH_SEARCH_SAMPLES`` (300),
``BENCH_SEARCH_MISSPELLINGS`` (10000).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path

from benchmarks.common import BENCH_SCHEMA, Goal, Report, say

PROFILES = int(os.environ.get("BENCH_SEARCH_PROFILES", "1000000"))
SAMPLES = int(os.environ.get("BENCH_SEARCH_SAMPLES", "300"))
MISSPELLINGS = int(os.environ.get("BENCH_SEARCH_MISSPELLINGS", "10000"))
SEED = 20260517
SURNAME_FILE = Path(__file__).with_name("data") / "uk_surnames.txt"

# Made-up frequencies per 10,000 people (shaped like UK name counts, not copied from any data set).
SURNAMES = """
Smith 120 Jones 95 Williams 75 Taylor 65 Brown 62 Davies 55 Evans 45 Wilson 42 Thomas 40 Johnson 38
Roberts 36 Robinson 33 Thompson 32 Wright 31 Walker 30 White 29 Edwards 28 Hughes 27 Green 26 Hall 25
Lewis 25 Harris 24 Clarke 23 Patel 23 Jackson 22 Wood 21 Turner 21 Martin 20 Cooper 20 Hill 19 Ward 19
Morris 18 Moore 18 Clark 18 Lee 17 King 17 Baker 17 Harrison 16 Morgan 16 Allen 16 James 15 Scott 15
Phillips 15 Watson 14 Davis 14 Parker 14 Price 13 Bennett 13 Young 13 Griffiths 13 Mitchell 12 Kelly 12
Cook 12 Carter 12 Richardson 11 Bailey 11 Collins 11 Bell 11 Shaw 10 Murphy 10 Miller 10 Cox 10
Richards 10 Khan 10 Marshall 9 Anderson 9 Simpson 9 Ellis 9 Adams 9 Singh 9 Begum 9 Wilkinson 8
Foster 8 Chapman 8 Powell 8 Webb 8 Rogers 8 Gray 8 Mason 8 Ali 8 Hunt 7 Hussain 7 Campbell 7 Matthews 7
Owen 7 Palmer 7 Holmes 7 Mills 7 Barnes 7 Knight 6 Lloyd 6 Butler 6 Russell 6 Barker 6 Fisher 6
Stevens 6 Jenkins 6 Murray 6 Dixon 6 Harvey 6 Graham 5 Pearson 5 Ahmed 5 Fletcher 5 Walsh 5 Kaur 5
Gibson 5 Howard 5 Andrews 5 Stewart 5 Elliott 5 Reynolds 5 Saunders 5 Payne 5 Fox 5 Ford 5 Pearce 5
Day 5 Brooks 5 West 5 Lawrence 5 Cole 5 Atkinson 4 Bradley 4 Spencer 4 Gill 4 Dawson 4 Ball 4 Burton 4
O'Brien 4 Watts 4 Rose 4 Booth 4 Perry 4 Ryan 4 Grant 4 Wells 4 Armstrong 4 Francis 4 Rees 4 Hayes 4
Hart 4 Hudson 4 Newman 4 Barrett 4 Webster 4 Hunter 4 Gregory 4 Carr 4 Lowe 4 Page 4 Marsh 4 Riley 4
Dunn 4 Woods 4 Parsons 4 Berry 4 Stone 4 Reid 4 Holland 4 Hawkins 4 Harding 4 Porter 4 Robertson 4
Newton 4 Oliver 4 Reed 4 Kennedy 4 Williamson 4 Bird 3 Gardner 3 Shah 3 Dean 3 Lane 3 Cooke 3 Bates 3
Henderson 3 Parry 3 Burgess 3 Bishop 3 Walton 3 Burns 3 Nicholson 3 Shepherd 3 Ross 3 Cross 3 Long 3
Freeman 3 Warren 3 Nicholls 3 Hamilton 3 Byrne 3 Sutton 3 McDonald 3 Yates 3 Hodgson 3 Robson 3
Curtis 3 Hopkins 3 O'Connor 3 Harper 3 Coleman 3 Watkins 3 Moss 3 McCarthy 3 Chambers 3 O'Neill 3
Griffin 3 Sharp 3 Hardy 3 Wheeler 3 Potter 3 Osborne 3 Johnston 3 Gordon 3 Doyle 3 Wallace 3 George 3
Jordan 3 Hutchinson 3 Brennan 2 Kowalski 2 Nowak 2 Mensah 2 Okafor 2 Nguyen 2 Chowdhury 2 Rahman 2
Sullivan 2 Quinn 2 Fraser 2 Kerr 2 Lamb 2 Pritchard 2 Vaughan 2 Bowen 2 Howells 2 Nash 2 Blake 2
"""
FIRST_NAMES = """
Oliver 60 Jack 55 Harry 50 George 48 Charlie 45 Thomas 44 James 44 William 40 Daniel 38 Joshua 36
Mohammed 35 Jacob 33 Alfie 32 Samuel 30 Joseph 30 Lewis 28 Ryan 28 Liam 26 Callum 26 Kyle 25 Connor 25
Jordan 24 Dylan 24 Luke 22 Adam 22 Ben 22 John 40 David 38 Michael 36 Paul 30 Mark 28 Andrew 28
Peter 24 Stephen 24 Robert 24 Richard 22 Christopher 22 Matthew 22 Anthony 20 Kevin 18 Gary 16 Dean 14
Wayne 12 Darren 12 Lee 12 Craig 12 Scott 12 Jamie 14 Aaron 12 Kieran 12 Reece 12 Tyler 12 Bradley 10
Olivia 60 Amelia 55 Emily 50 Isla 45 Ava 44 Jessica 42 Sophie 40 Chloe 38 Lily 36 Grace 34 Ella 32
Mia 32 Charlotte 30 Lucy 30 Megan 28 Hannah 28 Holly 24 Ellie 24 Amy 24 Lauren 24 Rebecca 22 Sarah 30
Emma 28 Laura 26 Claire 22 Nicola 20 Michelle 20 Lisa 20 Karen 18 Julie 18 Susan 18 Margaret 16
Patricia 14 Elizabeth 24 Mary 22 Jennifer 16 Helen 18 Kelly 14 Stacey 12 Jade 14 Shannon 10 Leah 12
Aisha 10 Fatima 10 Zara 10 Priya 8 Amira 8 Nina 8 Anna 12 Joan 8 Ann 10 Kathleen 8 Doreen 6 Brenda 6
"""
_PREFIXES = [
    "Ash",
    "Black",
    "Brad",
    "Brook",
    "Cald",
    "Chad",
    "Craw",
    "Dal",
    "Dun",
    "Elm",
    "Fair",
    "Farn",
    "Gal",
    "Glad",
    "Hal",
    "Hart",
    "Hol",
    "Kel",
    "Kings",
    "Lang",
    "Lind",
    "Mar",
    "Mid",
    "Mor",
    "Nor",
    "Oak",
    "Pen",
    "Rad",
    "Red",
    "Roth",
    "Sand",
    "Shel",
    "Stan",
    "Thorn",
    "Tre",
    "Wal",
    "Went",
    "Whit",
    "Wins",
    "Yar",
    "Ather",
    "Bram",
    "Cart",
    "Dray",
    "Ever",
]
_SUFFIXES = [
    "by",
    "ley",
    "ton",
    "well",
    "worth",
    "ford",
    "field",
    "wood",
    "ham",
    "stock",
    "mere",
    "combe",
    "hurst",
    "den",
    "shaw",
    "wick",
    "thorpe",
    "bury",
    "stone",
    "cott",
    "ridge",
    "land",
    "more",
    "dale",
    "brook",
    "gate",
    "croft",
    "lock",
    "wright",
    "son",
]
HEAD_SHARE = 0.4  # the rest of the surnames come from the syllable-built tail


def _weighted(text: str) -> list[str]:
    parts = text.split()
    expanded = []
    for name, weight in zip(parts[::2], parts[1::2], strict=True):
        expanded += [name] * int(weight)
    return expanded


def _tail() -> list[str]:
    return [p + s for p in _PREFIXES for s in _SUFFIXES]


def _setup_people():
    from tenant_apps.accounts.models import User
    from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership

    council = Agency.objects.create(name="Bench Council", kind="council")
    police = Agency.objects.create(name="Bench Police", kind="police")
    asb = Team.objects.create(agency=council, name="Bench ASB")
    cst = Team.objects.create(agency=council, name="Bench Community Safety")
    snt = Team.objects.create(agency=police, name="Bench Neighbourhood")
    user = User.objects.create_user("searcher@bench.example", full_name="Bench Searcher", role="practitioner")
    Membership.objects.create(user=user, agency=council)
    TeamMembership.objects.create(user=user, team=asb)
    return user, council, police, asb, cst, snt


def generate(count: int, people) -> float:
    """``count`` profiles in the bench partnership; returns the seconds taken."""
    from django.db import connection, transaction

    user, council, police, asb, cst, snt = people
    surnames, firsts, tail = _weighted(SURNAMES), _weighted(FIRST_NAMES), _tail()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = 'casework_profile' AND indexname NOT LIKE '%%pkey'"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(
            """
            INSERT INTO casework_profile (kind, first_name, last_name, name, date_of_birth, gender, phone, notes,
                search_name, merged_into_id, owning_agency_id, owning_team_id, version, created_by_id,
                created_at, updated_at)
            SELECT 'person', f, l, '', dob, 'not_known', '', '', lower(f || ' ' || replace(l, '''', ' ')), NULL,
                CASE WHEN o < 0.7 THEN %(council)s ELSE %(police)s END,
                CASE WHEN o < 0.5 THEN %(asb)s WHEN o < 0.7 THEN %(cst)s ELSE %(snt)s END,
                1, %(user)s, now(), now()
            FROM (
                SELECT firsts[1 + floor(random() * %(nfirst)s)::int] AS f,
                       CASE WHEN random() < %(head)s THEN surnames[1 + floor(random() * %(nsur)s)::int]
                            ELSE tail[1 + floor(random() * %(ntail)s)::int] END AS l,
                       date '1930-01-01' + floor(random() * (date '2010-12-31' - date '1930-01-01'))::int AS dob,
                       random() AS o
                FROM generate_series(1, %(count)s),
                     (SELECT %(firsts)s::text[] AS firsts, %(surnames)s::text[] AS surnames,
                             %(tail)s::text[] AS tail) AS lists
            ) AS drawn
            """,
            {"council": council.pk, "police": police.pk, "asb": asb.pk, "cst": cst.pk, "snt": snt.pk,
             "user": user.pk, "nfirst": len(firsts), "nsur": len(surnames), "ntail": len(tail), "head": HEAD_SHARE,
             "count": count, "firsts": firsts, "surnames": surnames, "tail": tail},
        )  # fmt: skip
        # 2% get an alias (a maiden or street name); 1% of the police's are shared with the searcher's team.
        cursor.execute(
            """
            INSERT INTO casework_profilealias (profile_id, name, search_name)
            SELECT id, a || ' ' || last_name, lower(a || ' ' || replace(last_name, '''', ' '))
            FROM (SELECT id, last_name, (%(firsts)s::text[])[1 + floor(random() * %(nfirst)s)::int] AS a
                  FROM casework_profile WHERE random() < 0.02) AS picked
            """,
            {"firsts": firsts, "nfirst": len(firsts)},
        )
        cursor.execute(
            """
            INSERT INTO casework_share (profile_id, team_id, can_edit, can_share, granted_by_id, granted_at)
            SELECT id, %(asb)s, false, false, %(user)s, now() FROM casework_profile
            WHERE owning_team_id = %(snt)s AND random() < 0.01
            """,
            {"asb": asb.pk, "snt": snt.pk, "user": user.pk},
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the deferred FK checks before building indexes
        for _name, definition in indexes:
            cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE casework_profile, casework_profilealias, casework_share, search_nameword, search_namekey"
        )
    return time.perf_counter() - started


def _typo(word: str, rng: random.Random) -> str:
    """One edit inside the word (never its first letter): drop, double, swap or change a letter."""
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "swap", "change"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    vowels = "aeiou" if word[i].lower() in "aeiou" else "bcdfghklmnprstvwy"
    return word[:i] + rng.choice([c for c in vowels if c != word[i].lower()]) + word[i + 1 :]


# --- Misspellings (the recall measure, also used by tests/test_search_spelling.py) -------------

EDIT_KINDS = ("drop", "add", "swap", "substitute")
# Spellings that sound alike in British names: (written, also written).
PHONETIC_RULES = (
    ("ph", "f"), ("f", "ph"), ("ck", "k"), ("c", "k"), ("k", "c"), ("y", "i"), ("i", "y"), ("ey", "y"),
    ("ie", "y"), ("ou", "ow"), ("ow", "ou"), ("ee", "ea"), ("ea", "ee"), ("mac", "mc"), ("mc", "mac"),
    ("th", "t"), ("sch", "sh"), ("w", "v"), ("sz", "sh"), ("cz", "ch"), ("ae", "e"), ("dge", "ge"),
    ("gh", ""), ("kn", "n"), ("wr", "r"), ("tt", "t"), ("ll", "l"), ("nn", "n"), ("ss", "s"), ("rr", "r"),
    ("s", "z"), ("z", "s"), ("son", "sen"), ("ai", "ay"), ("ay", "ai"), ("ei", "ie"), ("ie", "ei"),
    ("er", "a"), ("t", "tt"), ("l", "ll"), ("n", "nn"), ("e", "a"), ("a", "e"), ("o", "ou"), ("u", "oo"),
)  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def uk_surnames() -> list[str]:
    """The surnames of ``data/uk_surnames.txt`` (common UK surnames; source in its header)."""
    names = []
    for line in SURNAME_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line)
    return list(dict.fromkeys(names))


def _edit(word: str, kind: str, rng: random.Random) -> str:
    if kind == "drop":
        i = rng.randrange(len(word))
        return word[:i] + word[i + 1 :]
    if kind == "add":
        i = rng.randrange(len(word) + 1)
        neighbour = word[min(i, len(word) - 1)]
        return word[:i] + rng.choice([neighbour, rng.choice(_LETTERS)]) + word[i:]
    if kind == "swap":
        i = rng.randrange(len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = rng.randrange(len(word))
    return word[:i] + rng.choice([c for c in _LETTERS if c != word[i]]) + word[i + 1 :]


def phonetic_variant(word: str, rng: random.Random) -> str | None:
    """``word`` respelt as it may be heard (one rule of ``PHONETIC_RULES``), or None."""
    rules = [(a, b) for a, b in PHONETIC_RULES if a in word[1:] or word.startswith(a)]
    rng.shuffle(rules)
    for written, heard in rules:
        starts = [i for i in range(len(word)) if word.startswith(written, i)]
        i = rng.choice(starts)
        variant = word[:i] + heard + word[i + len(written) :]
        if variant != word and len(variant) >= 2:
            return variant
    return None


def misspell(word: str, kind: str, rng: random.Random) -> str | None:
    """``word`` (lower case) with one edit (``drop``, ``add``, ``swap``, ``substitute``), two
    (``drop2`` ..., and ``mixed2``: two of any kind), or a phonetic respelling
    (``phonetic``); None where it makes no sense: two edits in a name of under six letters
    (they leave too little of it: "row" for Brown), any edit in one of under three, a swap
    of two equal letters."""
    if kind == "phonetic":
        return phonetic_variant(word, rng)
    edits = 2 if kind.endswith("2") else 1
    if len(word) < 3 or (edits == 2 and len(word) < 6):
        return None
    typed = word
    for _ in range(edits):
        typed = _edit(typed, rng.choice(EDIT_KINDS) if kind == "mixed2" else kind.rstrip("2"), rng)
    return typed if typed != word else None


MISSPELLING_KINDS = (*EDIT_KINDS, *(f"{kind}2" for kind in EDIT_KINDS), "mixed2", "phonetic")


def misspellings(count: int, seed: int = SEED) -> list[tuple[str, str, str]]:
    """``count`` (intended surname, typed, kind) triples over ``uk_surnames()``, the kinds in
    turn, surnames in a shuffled cycle."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    surnames = uk_surnames()
    out: list[tuple[str, str, str]] = []
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        surname = surnames[attempts % len(surnames)] if attempts % len(surnames) else rng.choice(surnames)
        kind = MISSPELLING_KINDS[attempts % len(MISSPELLING_KINDS)]
        typed = misspell(surname.lower(), kind, rng)
        if typed:
            out.append((surname, typed, kind))
    return out


def recall_population(user, team) -> dict[str, int]:
    """One person per surname of the list, owned by ``team``, in one ``INSERT`` (the lexicon's
    trigger sees them as it sees any write): surname -> profile id."""
    from tenant_apps.casework.models import Profile

    rng = random.Random(SEED)  # noqa: S311 - test data, not secrets
    firsts = sorted(set(_weighted(FIRST_NAMES)))
    people = []
    for surname in uk_surnames():
        person = Profile(first_name=rng.choice(firsts), last_name=surname, owning_agency_id=team.agency_id,
                         owning_team=team, created_by=user)  # fmt: skip
        person.refresh_search_name()
        people.append(person)
    return {person.last_name: person.pk for person in Profile.objects.bulk_create(people)}


def recall(user, people: dict[str, int], cases: list[tuple[str, str, str]]) -> tuple[dict[str, list[int]], list]:
    """For each (intended, typed, kind): is the intended person on the first page of a search
    for the typed surname alone? Returns kind -> [found, tried], and the misses."""
    from tenant_apps.search.selectors import find

    tally: dict[str, list[int]] = {}
    misses = []
    for intended, typed, kind in cases:
        found = any(p.pk == people[intended] for p in find(user=user, query=typed).profiles)
        counts = tally.setdefault(kind, [0, 0])
        counts[0] += found
        counts[1] += 1
        if not found:
            misses.append((intended, typed, kind))
    return tally, misses


def measure_recall(user, team, report: Report) -> None:
    """Recall of misspelt surnames alone, on one person per surname of the list (then removed)."""
    from django.db import connection

    started = time.perf_counter()
    people = recall_population(user, team)
    cases = misspellings(MISSPELLINGS)
    tally, misses = recall(user, people, cases)
    found = sum(f for f, _ in tally.values())
    line = (
        f"recall: {found}/{len(cases)} = {found / len(cases):.4f} of {len(cases):,} misspelt surnames alone"
        f" found the intended person on the first page ({len(people)} people, one per surname;"
        f" {time.perf_counter() - started:.1f} s)"
    )
    say(f"  {line}")
    report.lines.append(f"search: {line}")
    by_kind = ", ".join(f"{kind} {f / n:.3f}" for kind, (f, n) in sorted(tally.items()))
    say(f"  recall by kind: {by_kind}")
    report.lines.append(f"search: recall by kind: {by_kind}")
    say(f"  some misses: {misses[:15]}")
    report.goals.append(
        Goal("search: recall of misspelt surnames / 0.95", found / len(cases) / 0.95, 1.0, at_most=False)
    )
    with connection.cursor() as cursor:  # the 1M set comes next, without them
        cursor.execute("DELETE FROM casework_profile WHERE id = ANY(%s)", [list(people.values())])


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _line(label: str, values: list[float]) -> str:
    return (
        f"{label}: p50 {statistics.median(values) * 1000:.2f} ms, p95 {_pct(values, 95) * 1000:.2f} ms, "
        f"p99 {_pct(values, 99) * 1000:.2f} ms, max {max(values) * 1000:.2f} ms (n={len(values)})"
    )


def _baseline(*, user, **lookup):
    from django.db.models import Count, Window

    from tenant_apps.casework.selectors import profiles_visible_to

    qs = profiles_visible_to(user).filter(**lookup).annotate(total=Window(Count("pk"))).order_by("search_name", "pk")
    return list(qs[:50])


def measure(user, report: Report) -> None:
    from django.db import connection

    from tenant_apps.search.selectors import find

    rng = random.Random(SEED)  # noqa: S311 - test data, not secrets
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM casework_profile")
        total = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FILTER (WHERE last_name = 'Smith')::float / count(*) FROM casework_profile")
        smith = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id, first_name, last_name, date_of_birth FROM casework_profile ORDER BY md5(id::text) LIMIT %s",
            [SAMPLES],
        )
        sample = cursor.fetchall()
    say(f"  {total:,} profiles; Smith is {smith:.2%} of them; {len(sample)} sampled profiles")
    from tenant_apps.casework.selectors import profiles_visible_to

    visible = {pk for (pk,) in profiles_visible_to(user).filter(pk__in=[s[0] for s in sample]).values_list("pk")}
    timings: dict[str, list[float]] = {k: [] for k in ("dob", "full", "surname", "exact", "ilike")}
    found_with_dob = 0
    for index, (pk, first, last, dob) in enumerate(sample):
        plain = last.lower().replace("'", "")
        kind = MISSPELLING_KINDS[index % len(MISSPELLING_KINDS)]
        last_typo = misspell(plain, kind, rng) or _typo(plain, rng)
        exact, surname = f"{first} {last}".lower().replace("'", " "), last.lower().replace("'", " ")
        runs = [
            ("dob", find, {"user": user, "query": f"{first} {last_typo}", "date_of_birth": dob}),
            ("full", find, {"user": user, "query": f"{first} {last_typo}"})
            if index % 2 == 0
            else ("surname", find, {"user": user, "query": last_typo}),
            ("exact", _baseline, {"user": user, "search_name": exact}),
        ]
        if index % 10 == 0:  # seconds each at 1M: a tenth of the samples
            runs.append(("ilike", _baseline, {"user": user, "search_name__icontains": surname}))
        rng.shuffle(runs)
        for kind, call, kwargs in runs:
            started = time.perf_counter()
            result = call(**kwargs)
            elapsed = time.perf_counter() - started
            if index >= 10 or kind == "ilike":  # the first ten warm caches
                timings[kind].append(elapsed)
            if kind == "dob" and pk in visible and any(p.pk == pk for p in result.profiles):
                found_with_dob += 1
    labels = {
        "dob": "name (misspelt surname) + date of birth",
        "full": "full name (misspelt surname), no date",
        "surname": "surname alone (misspelt), no date",
        "exact": "baseline: exact b-tree search_name = ...",
        "ilike": "baseline: search_name ILIKE '%surname%' (exact surname)",
    }
    for kind, label in labels.items():
        line = _line(label, timings[kind])
        say(f"  {line}")
        report.lines.append(f"search: {line}")
    name_only = timings["full"] + timings["surname"]
    line = _line("name alone, both kinds", name_only)
    say(f"  {line}")
    report.lines.append(f"search: {line}")
    exact_p50 = statistics.median(timings["exact"])
    ratios = (
        f"ratios to the exact b-tree lookup, same percentile: surname alone p95"
        f" {_pct(timings['surname'], 95) / _pct(timings['exact'], 95):.1f}x,"
        f" name+DOB p99 {_pct(timings['dob'], 99) / _pct(timings['exact'], 99):.1f}x;"
        f" p50: name+DOB {statistics.median(timings['dob']) / exact_p50:.1f}x,"
        f" name alone {statistics.median(name_only) / exact_p50:.1f}x,"
        f" ILIKE {statistics.median(timings['ilike']) / exact_p50:.1f}x"
    )
    recall = f"name (misspelt) + DOB found the sampled visible profile in {found_with_dob}/{len(visible)} cases"
    for text in (ratios, recall):
        say(f"  {text}")
        report.lines.append(f"search: {text}")
    report.goals.append(Goal("search: name + DOB p99 / 5 ms", _pct(timings["dob"], 99) / 0.005, 1.0, at_most=True))
    report.goals.append(
        Goal("search: surname alone p95 / 100 ms", _pct(timings["surname"], 95) / 0.1, 1.0, at_most=True)
    )


def run(report: Report) -> None:
    from django_tenants.utils import schema_context

    say("== Search ==")
    with schema_context(BENCH_SCHEMA):
        people = _setup_people()
        user, asb = people[0], people[3]
        measure_recall(user, asb, report)
        seconds = generate(PROFILES, people)
        line = f"generated {PROFILES:,} profiles (+aliases, shares, indexes rebuilt, ANALYZE) in {seconds:.1f} s"
        say(f"  {line}")
        report.lines.append(f"search: {line}")
        measure(user, report)
