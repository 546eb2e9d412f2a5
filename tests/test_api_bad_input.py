"""Bad input to the API is a 400 naming the field, never a 500, and changes nothing (issue 8, point 17).

The cast in Suffolk (tests/conftest.py, rolled back per test): Bob owns the records (ASB Team);
Nina, in Norfolk, must get 404 for every Suffolk id, however malformed the body around it.
Each test below was a 500 (or a wrong answer) before ``concord.api``'s parser and fields.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.casework.models import Case, Profile, TimelineEntry
from tenant_apps.tasks.models import Task
from tests.api_input_helpers import fill, make_records, openapi_schema, operations, path_ids
from tests.conftest import sign_in
from tests.test_casework_api import client_of, make_case, make_entry, make_profile

API = "/api/v1"
SURROGATE = "ab\ud800cd"  # a lone surrogate: valid in a JSON string escape, never valid UTF-8
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture
def bob(cast):
    return client_of(cast, "bob")


@pytest.fixture
def records(cast):
    profile = make_profile(cast)
    case = make_case(cast, profile)
    entry = make_entry(cast, case)
    return {"profile": profile, "case": case, "entry": entry}


def send(client, method: str, path: str, body) -> object:
    """``body``: a value to encode as JSON (lone surrogates as ``\\ud800`` escapes), or raw text."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(path, data=data, content_type="application/json")


def assert_400_naming(response, field: str) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    response.content.decode("utf-8")  # the answer is always valid UTF-8
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert "\ud800" not in json.dumps(error, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"
    )
    return error


def counts() -> tuple[int, ...]:
    with schema_context("suffolk"):
        return tuple(model.objects.count() for model in (Profile, Case, TimelineEntry, Task))


# --- Lone surrogates: the error echoed the value and the renderer could not encode it -------------


def choice_cases(records):
    case, profile = records["case"], records["profile"]
    return [
        ("post", f"{API}/profiles/", {"first_name": "Kim", "gender": SURROGATE}, "gender"),
        ("post", f"{API}/profiles/", {"first_name": "Kim", "kind": SURROGATE}, "kind"),
        ("patch", f"{API}/profiles/{profile.pk}/", {"version": profile.version, "gender": SURROGATE}, "gender"),
        ("post", f"{API}/cases/{case.pk}/status/", {"version": case.version, "status": SURROGATE}, "status"),
        (
            "post",
            f"{API}/cases/{case.pk}/status/",
            {"version": case.version, "status": "closed", "outcome": SURROGATE},
            "outcome",
        ),  # fmt: skip
        (
            "post",
            f"{API}/cases/",
            {"case_type": "ASB", "title": "T", "subjects": [{"profile": profile.pk, "role": SURROGATE}]},
            "subjects",
        ),  # fmt: skip
        (
            "post",
            f"{API}/cases/{case.pk}/timeline/",
            {"kind": SURROGATE, "occurred_at": "2026-01-01T10:00:00Z", "summary": "S"},
            "kind",
        ),  # fmt: skip
        (
            "post",
            f"{API}/cases/{case.pk}/timeline/",
            {"kind": "visit", "action": SURROGATE, "occurred_at": "2026-01-01T10:00:00Z", "summary": "S"},
            "action",
        ),  # fmt: skip
        (
            "post",
            f"{API}/profiles/{profile.pk}/identifiers/",
            {"version": profile.version, "kind": SURROGATE, "value": "X"},
            "kind",
        ),  # fmt: skip
        ("post", f"{API}/families/", {"name": SURROGATE}, "name"),
        ("post", f"{API}/tasks/", {"title": "T", "status": SURROGATE, "due_date": SURROGATE}, "due_date"),
        ("post", f"{API}/search/", {"query": SURROGATE}, "query"),
    ]


def test_a_lone_surrogate_anywhere_in_a_body_is_a_400_naming_the_field_and_saves_nothing(records, bob):
    before = counts()
    for method, path, body, field in choice_cases(records):
        assert_400_naming(send(bob, method, path, body), field)
    assert counts() == before


def test_a_lone_surrogate_in_a_key_or_a_nested_value_names_the_top_level_field(records, bob):
    error = assert_400_naming(send(bob, "post", f"{API}/profiles/", {"aliases": ["ok", SURROGATE]}), "aliases")
    assert error["fields"]["aliases"] == ["Text must be valid Unicode (no lone surrogates)."]
    # a bad key is the body's fault (it names no field we have), and is never echoed
    error = assert_400_naming(send(bob, "post", f"{API}/profiles/", {SURROGATE: "x", "first_name": "K"}),
                              "non_field_errors")  # fmt: skip
    assert list(error["fields"]) == ["non_field_errors"]


def test_a_choice_error_lists_the_choices_and_never_echoes_the_value(records, bob):
    error = assert_400_naming(send(bob, "post", f"{API}/profiles/", {"gender": "<b>zz</b>"}), "gender")
    assert "zz" not in json.dumps(error) and error["fields"]["gender"][0].startswith("Choose one of: ")
    tasks = bob.get(f"{API}/tasks/", {"scope": "<script>zz"})
    assert_400_naming(tasks, "scope")
    assert b"zz" not in tasks.content


# --- Deep nesting: 100 KB of "[" was a RecursionError ----------------------------------------


def json_bodies(records):
    case, profile, entry = records["case"], records["profile"], records["entry"]
    return [
        ("post", f"{API}/profiles/"),
        ("post", f"{API}/profiles/duplicates/"),
        ("patch", f"{API}/profiles/{profile.pk}/"),
        ("post", f"{API}/profiles/{profile.pk}/timeline/"),
        ("post", f"{API}/profiles/{profile.pk}/shares/"),
        ("post", f"{API}/profiles/{profile.pk}/aliases/"),
        ("post", f"{API}/profiles/{profile.pk}/merge/"),
        ("post", f"{API}/cases/"),
        ("post", f"{API}/cases/{case.pk}/status/"),
        ("post", f"{API}/cases/{case.pk}/timeline/"),
        ("post", f"{API}/cases/{case.pk}/shares/"),
        ("patch", f"{API}/entries/{entry.pk}/"),
        ("post", f"{API}/entries/{entry.pk}/delete/"),
        ("post", f"{API}/families/"),
        ("post", f"{API}/tasks/"),
        ("post", f"{API}/search/"),
    ]


def test_100_kb_of_brackets_is_a_400_on_every_json_endpoint(records, bob):
    before = counts()
    for method, path in json_bodies(records):
        response = send(bob, method, path, "[" * 100_000)
        error = assert_400_naming(response, "non_field_errors")
        assert error["fields"]["non_field_errors"] == ["The JSON nests more than 32 levels deep."]
    assert counts() == before


def test_nesting_too_deep_inside_a_field_names_the_field(records, bob):
    nested: list = ["a"]
    for _ in range(40):
        nested = [nested]
    assert_400_naming(send(bob, "post", f"{API}/profiles/", {"first_name": "K", "aliases": nested}), "aliases")


# --- NUL, NaN, Infinity, 1e999 and ids that are not whole numbers ---------------------------


def test_nul_in_case_type_is_a_400_naming_it_and_saves_nothing(records, bob):
    before = counts()
    response = send(bob, "post", f"{API}/cases/", {"case_type": "AS\x00B", "title": "Noise"})
    assert_400_naming(response, "case_type")
    assert counts() == before


def test_an_unknown_case_type_is_named_without_echoing_it(records, bob):
    error = assert_400_naming(send(bob, "post", f"{API}/cases/", {"case_type": "zzq", "title": "N"}), "case_type")
    assert "zzq" not in json.dumps(error)


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_as_a_task_id_are_a_400_naming_the_field(records, bob, cast, number):
    body = f'{{"title": "Check CCTV", "assigned_team": {cast["snt"].pk}, "case": {number}}}'
    before = counts()
    assert_400_naming(send(bob, "post", f"{API}/tasks/", body), "case")
    assert counts() == before


@pytest.mark.parametrize("value", [1.5, 1.0, True, "1.5", "1e3", " 1", -1, 0, 2**63, 10**30, [1], {"id": 1}])
def test_an_id_that_is_not_a_whole_number_in_range_is_refused(records, bob, cast, value):
    """``1.5`` was accepted as id 1; ``10**30`` reached PostgreSQL."""
    before = counts()
    task = {"title": "Check CCTV", "assigned_team": cast["snt"].pk, "case": value}
    assert_400_naming(send(bob, "post", f"{API}/tasks/", task), "case")
    assert_400_naming(send(bob, "post", f"{API}/families/", {"name": "F", "owning_team": value}), "owning_team")
    share = send(bob, "post", f"{API}/cases/{records['case'].pk}/shares/", {"team": value})
    assert_400_naming(share, "team")
    assert counts() == before


def test_a_task_naming_a_case_by_its_id_plus_a_half_is_refused(records, bob, cast):
    case = records["case"]
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    body = {"title": "Check CCTV", "assigned_team": cast["snt"].pk, "case": case.pk + 0.5, "due_date": due}
    assert_400_naming(send(bob, "post", f"{API}/tasks/", body), "case")
    assert counts()[3] == 0
    body["case"] = case.pk
    assert send(bob, "post", f"{API}/tasks/", body).status_code == 201


def test_invalid_utf8_and_unknown_charsets_are_400(records, bob):
    not_utf8 = bob.generic("POST", f"{API}/profiles/", b'{"first_name": "\xff"}', content_type="application/json")
    assert not_utf8.status_code == 400
    odd = bob.generic("POST", f"{API}/profiles/", b"{}", content_type="application/json; charset=nope")
    assert odd.status_code in (400, 415)


# --- Dates: 9999-12-31 was accepted as a due date; year 85 as a date-time ----------------------


@pytest.mark.parametrize("due", ["9999-12-31", "2101-01-01", "0001-01-01"])
def test_a_task_due_in_an_absurd_year_is_refused(records, bob, cast, due):
    body = {"title": "Check CCTV", "assigned_team": cast["snt"].pk, "due_date": due}
    error = assert_400_naming(send(bob, "post", f"{API}/tasks/", body), "due_date")
    assert error["fields"]["due_date"] == ["Enter a date from 1900-01-01 to 2100-12-31."]
    assert counts()[3] == 0


def test_the_last_day_of_2100_is_a_due_date(records, bob, cast):
    body = {"title": "Check CCTV", "assigned_team": cast["snt"].pk, "due_date": "2100-12-31"}
    assert send(bob, "post", f"{API}/tasks/", body).status_code == 201


@pytest.mark.parametrize(
    "occurred_at", ["0085-11-10T08:53:45Z", "1899-12-31T23:59:59Z", "2101-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
                    "9999-12-31T23:59:59-01:00"],
)  # fmt: skip
def test_an_entry_in_an_absurd_year_is_refused(records, bob, occurred_at):
    case = records["case"]
    body = {"kind": "visit", "occurred_at": occurred_at, "summary": "Visit"}
    before = counts()
    assert_400_naming(send(bob, "post", f"{API}/cases/{case.pk}/timeline/", body), "occurred_at")
    entry = records["entry"]
    change = {"version": entry.version, "occurred_at": occurred_at}
    assert_400_naming(send(bob, "patch", f"{API}/entries/{entry.pk}/", change), "occurred_at")
    assert counts() == before


def test_date_times_are_answered_in_rfc_3339_even_for_an_old_stored_value(records, bob):
    """An entry stored before the bound (1885, when London's offset was -00:01:15) still answers
    a valid RFC 3339 date-time (in UTC), never ``1885-...-00:01:15``."""
    entry = records["entry"]
    with schema_context("suffolk"):
        old = dt.datetime(1885, 11, 10, 8, 53, 45, tzinfo=dt.UTC)
        TimelineEntry.objects.filter(pk=entry.pk).update(occurred_at=old)
    answer = bob.get(f"{API}/entries/{entry.pk}/").json()
    assert RFC3339.match(answer["occurred_at"]), answer["occurred_at"]
    assert answer["occurred_at"] == "1885-11-10T08:53:45Z"
    created = send(bob, "post", f"{API}/cases/{records['case'].pk}/timeline/",
                   {"kind": "visit", "occurred_at": "1900-01-01T12:00:00Z", "summary": "Visit"})  # fmt: skip
    assert created.status_code == 201 and RFC3339.match(created.json()["occurred_at"])


# --- An entry removed while its attachments are read -------------------------------------------


def test_an_entry_removed_between_statements_is_404_or_its_list_never_500(records, bob):
    """``access_entry`` looked the entry up twice: removed between the two (a real DELETE on the
    same connection, as a concurrent request's committed delete would be seen under READ COMMITTED),
    the second read raised DoesNotExist. Now one statement reads it."""
    entry = records["entry"]
    table = TimelineEntry._meta.db_table
    state = {"done": False}

    def delete_after_first_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not state["done"] and sql.lstrip().upper().startswith("SELECT") and f'"{table}"' in sql:
            state["done"] = True
            with context["connection"].cursor() as cursor:
                for through in (TimelineEntry.profiles.through, TimelineEntry.restricted_to_teams.through):
                    cursor.execute(f'DELETE FROM "{through._meta.db_table}" WHERE timelineentry_id = %s', [entry.pk])
                cursor.execute(f'DELETE FROM "{table}" WHERE id = %s', [entry.pk])
        return result

    with connection.execute_wrapper(delete_after_first_read):
        response = bob.get(f"{API}/entries/{entry.pk}/attachments/")
    assert state["done"]
    assert response.status_code in (200, 404), response.status_code
    assert bob.get(f"{API}/entries/{entry.pk}/attachments/").status_code == 404


def test_reading_an_entry_looks_it_up_once(records, bob, cast):
    from tenant_apps.casework import selectors

    entry = records["entry"]
    with schema_context("suffolk"), CaptureQueriesContext(connection) as queries:
        found = selectors.access_entry(user=cast["bob"], entry_id=entry.pk)
    assert found.pk == entry.pk and found.can_read
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and
             f'FROM "{TimelineEntry._meta.db_table}"' in q["sql"]]  # fmt: skip
    assert len(reads) == 1, reads


# --- Another partnership: its ids inside a bad body are still 404 --------------------------------


def test_norfolk_gets_404_for_suffolk_ids_whatever_the_body(records, norfolk_client):
    sign_in(norfolk_client, "nina@norfolk.test")
    case, profile, entry = records["case"], records["profile"], records["entry"]
    targets = [("patch", f"{API}/profiles/{profile.pk}/"), ("post", f"{API}/cases/{case.pk}/status/"),
               ("post", f"{API}/cases/{case.pk}/timeline/"), ("patch", f"{API}/entries/{entry.pk}/")]  # fmt: skip
    for method, path in targets:
        for body in ({"version": 1, "status": SURROGATE, "gender": SURROGATE}, {"version": 1.5}, {}):
            response = send(norfolk_client, method, path, body)
            assert response.status_code == 404, (path, response.status_code)


# --- Generated from the OpenAPI schema: every operation, every field ----------------------------
# The acceptance's test: the cases come from the schema itself (drf-spectacular's generator,
# in-process), run as Bob with real records behind every path parameter, then as Nina (Norfolk)
# with the same Suffolk ids. Zero 5xx; Bob's bad values are a 400 naming the field; Nina's are 404.

PLACEHOLDER = "__bad_value__"
DEEP = 40  # deeper than concord.api.MAX_JSON_DEPTH, shallower than Python's recursion limit
BAD_VALUES = [  # (label, value): a value to encode, or raw JSON text in place of the placeholder
    ("lone surrogate", SURROGATE),
    ("NUL", "a\x00b"),
    ("nested too deep", json.loads("[" * DEEP + "]" * DEEP)),
    ("NaN", "raw:NaN"),
    ("Infinity", "raw:-Infinity"),
    ("1e999", "raw:1e999"),
    ("an object", {"a": 1}),
    ("a list of lists", [["x"]]),
]
BAD_QUERY = [("lone surrogate", "%ED%A0%80"), ("NUL", "%00"), ("a long value", "x" * 5000)]


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _body_properties(schema: dict, operation: dict) -> dict[str, dict]:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return {}
    return _resolve(schema, content["application/json"]["schema"]).get("properties", {})


def _json_with(field: str, value) -> str:
    if isinstance(value, str) and value.startswith("raw:"):
        return json.dumps({field: PLACEHOLDER}).replace(f'"{PLACEHOLDER}"', value[4:])
    return json.dumps({field: value})


def _huge_numbers(schema: dict, prop: dict) -> list:
    prop = _resolve(schema, prop)
    return [("10**30", 10**30), ("1.5", 1.5)] if prop.get("type") == "integer" and "maximum" in prop else []


def bad_requests(schema: dict):
    """``(label, path, method, body or None, query or None, field)`` for every operation."""
    for path, method, operation in operations(schema):
        properties = _body_properties(schema, operation)
        for field, prop in properties.items():
            for label, value in [*BAD_VALUES, *_huge_numbers(schema, prop)]:
                yield f"{field}: {label}", path, method, _json_with(field, value), None, field
        if properties:
            yield "100 KB of [", path, method, "[" * 100_000, None, "non_field_errors"
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] != "page":
                for label, value in BAD_QUERY:
                    yield f"?{parameter['name']}: {label}", path, method, None, f"{parameter['name']}={value}", \
                        parameter["name"]  # fmt: skip


def call(client, method: str, path: str, body: str | None, query: str | None):
    extra = {"QUERY_STRING": query} if query else {}
    if body is None:
        return getattr(client, method)(path, **extra)
    return client.generic(method.upper(), path, body.encode("utf-8", "surrogatepass"),
                          content_type="application/json", **extra)  # fmt: skip


def domain_counts() -> dict[str, int]:
    from tenant_apps.casework.models import Family, FamilyMember, ProfileAddress, ProfileAlias, Share

    with schema_context("suffolk"):
        models = (Profile, Case, TimelineEntry, Task, Share, Family, FamilyMember, ProfileAddress, ProfileAlias)
        return {model.__name__: model.objects.count() for model in models}


def test_every_operation_in_the_schema_answers_bad_input_with_a_400_naming_the_field(cast, norfolk_client):
    schema = openapi_schema()
    records = make_records(cast)
    bob = client_of(cast, "bob")
    before = domain_counts()
    tried, failures = 0, []
    for label, path, method, body, query, field in bad_requests(schema):
        response = call(bob, method, fill(path, path_ids(path, records)), body, query)
        tried += 1
        problem = None
        if response.status_code >= 500:
            problem = f"{response.status_code}"
        elif response.status_code != 400:
            problem = f"{response.status_code}, not 400"
        else:
            error = response.json()["error"]
            if field not in error.get("fields", {}):
                problem = f"400 without {field}: {error}"
        if problem:
            failures.append(f"{method.upper()} {path} {label}: {problem}")
    assert not failures, f"{len(failures)} of {tried}:\n" + "\n".join(failures[:60])
    assert tried > 500
    assert domain_counts() == before  # nothing half-saved

    # Norfolk's admin, with Suffolk's ids in every path and the same bad input: 404, never 5xx.
    # (Each operation once per kind of bad value, on its first field: the answer comes before the body.)
    sign_in(norfolk_client, "nina@norfolk.test")
    seen, first_field = 0, {}
    for label, path, method, body, query, field in bad_requests(schema):
        ids = path_ids(path, records)
        if not ids or first_field.setdefault((path, method, query is None), field) != field:
            continue
        response = call(norfolk_client, method, fill(path, ids), body, query)
        seen += 1
        if response.status_code != 404:
            failures.append(f"Norfolk {method.upper()} {path} {label}: {response.status_code}")
    assert not failures, "\n".join(failures[:60])
    assert seen > 150
    assert domain_counts() == before


def test_the_multipart_upload_refuses_a_non_file_and_a_json_body(cast):
    records = make_records(cast)
    bob = client_of(cast, "bob")
    url = f"{API}/entries/{records['entry'].pk}/attachments/"
    assert_400_naming(bob.post(url, {"file": "not a file"}), "file")
    assert bob.generic("POST", url, b'{"file": "x"}', content_type="application/json").status_code == 415
