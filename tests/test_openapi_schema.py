"""The OpenAPI schema tells the truth (issue 8, point 19).

- The tasks list answers a page and is documented as one (it was documented as a bare list).
- Date-times are bounded to 1900..2100 and answered in RFC 3339 (``occurred_at`` took year 85 and
  answered ``0085-11-10T08:53:45-00:01:15``).
- Every operation documents its error answers (400/401/403/404/409/415/429, and 503 where it stores
  files) in the one ``Error`` shape, and real error answers match it.
The cast: Bob (Suffolk, ASB Team) with real records; Nina in Norfolk for a 404.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import jsonschema
import pytest
from django.core.management import call_command

from tests.api_input_helpers import fill, make_records, openapi_schema, operations, path_ids
from tests.conftest import sign_in
from tests.test_casework_api import client_of

API = "/api/v1"
ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def schema():
    return openapi_schema()


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def answer_schema(schema: dict, path: str, method: str, status: str) -> dict:
    return resolve(schema, schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"])


def test_the_schema_validates_and_generates_without_warnings(tmp_path):
    out = io.StringIO()
    target = str(tmp_path / "schema.json")
    call_command("spectacular", "--urlconf", "concord.urls_partnership", "--validate", "--fail-on-warn",
                 "--format", "openapi-json", "--file", target, stdout=out, stderr=out)  # fmt: skip
    document = json.loads((tmp_path / "schema.json").read_text())
    assert document["openapi"].startswith("3.") and "Error" in document["components"]["schemas"]


def test_the_tasks_list_is_documented_as_the_page_it_answers(schema, cast):
    page = answer_schema(schema, "/api/v1/tasks/", "get", "200")
    assert page["type"] == "object" and set(page["properties"]) == {"count", "next", "previous", "results"}
    assert resolve(schema, page["properties"]["results"]["items"])["properties"]["due_date"]["format"] == "date"
    assert "page" in {p["name"] for p in schema["paths"]["/api/v1/tasks/"]["get"]["parameters"]}
    assert schema["paths"]["/api/v1/tasks/"]["get"]["operationId"] == "v1_tasks_list"  # as before

    make_records(cast)
    answer = client_of(cast, "bob").get(f"{API}/tasks/", {"scope": "created"}).json()
    assert set(answer) == {"count", "next", "previous", "results"} and answer["count"] == 1


def test_every_date_time_and_date_input_states_its_bounds(schema):
    found = 0
    for name, component in schema["components"]["schemas"].items():
        if not name.endswith("Request"):
            continue
        for field, prop in component.get("properties", {}).items():
            if prop.get("format") in ("date", "date-time"):
                found += 1
                assert "1900-01-01 to 2100-12-31" in prop.get("description", ""), (name, field)
    assert found >= 8


def test_every_operation_documents_its_error_answers(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        body = operation.get("requestBody", {}).get("content", {})
        takes_version = "version" in query or any(
            "version" in resolve(schema, media["schema"]).get("properties", {}) for media in body.values()
        )
        expected = {"401", "403", "429"}
        expected |= {"400"} if body or query - {"page"} else set()
        expected |= {"415"} if body else set()
        expected |= {"404"} if "{" in path or "page" in query else set()
        expected |= {"409"} if takes_version else set()
        idempotent = any(
            p["in"] == "header" and p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])
        )
        expected |= {"422"} if idempotent else set()
        upload = resolve(schema, body["multipart/form-data"]["schema"]) if "multipart/form-data" in body else {}
        files = [prop for prop in upload.get("properties", {}).values() if "binary" in (prop.get("format"),
                 prop.get("items", {}).get("format"))]  # fmt: skip
        expected |= {"503"} if files else set()  # files to store: storage may be down
        errors = {code for code in responses if code >= "400"}
        assert errors == expected, (method, path, errors, expected)
        for code in errors:
            assert responses[code]["content"]["application/json"]["schema"] == ERROR_REF, (method, path, code)
            assert responses[code]["description"]
        assert any(code < "300" for code in responses), (method, path)


def test_real_error_answers_match_the_documented_error_shape(schema, cast, norfolk_client, suffolk_client):
    error_schema = schema["components"]["schemas"]["Error"]
    records = make_records(cast)
    bob = client_of(cast, "bob")
    profile, case, entry = records["profile"], records["case"], records["entry"]
    answers = {
        "400": bob.post(f"{API}/cases/", {"subjects": [{"role": "x"}]}, content_type="application/json"),  # fmt: skip
        "400 surrogate": bob.post(f"{API}/profiles/", {"aliases": ["\ud800"]}, content_type="application/json"),
        "400 parse": bob.post(f"{API}/profiles/", "{", content_type="application/json"),
        "400 nested": bob.post(f"{API}/profiles/", {"aliases": [{"a": 1}]}, content_type="application/json"),
        "401": suffolk_client.get(f"{API}/me/", headers={"Authorization": "Bearer concord_suffolk_unknown"}),
        "403": suffolk_client.get(f"{API}/me/"),
        "404": bob.get(f"{API}/profiles/{profile.pk + 10_000}/"),
        "409": bob.post(
            f"{API}/cases/{case.pk}/status/",
            {"version": case.version + 5, "status": "closed", "outcome": "resolved"},
            content_type="application/json",
        ),  # fmt: skip
        "409 task": bob.post(
            f"{API}/tasks/{records['task'].pk}/status/",
            {"version": 99, "status": "done"},
            content_type="application/json",
        ),  # fmt: skip
        "415": bob.post(f"{API}/entries/{entry.pk}/attachments/", "{}", content_type="application/json"),
    }
    reply = f"{API}/tasks/{records['task'].pk}/replies/"
    assert bob.post(reply, {"body": "On it"}, content_type="application/json",
                    headers={"Idempotency-Key": "k-1"}).status_code == 201  # fmt: skip
    answers["422"] = bob.post(reply, {"body": "Another reply"}, content_type="application/json",
                              headers={"Idempotency-Key": "k-1"})  # fmt: skip
    sign_in(norfolk_client, "nina@norfolk.test")
    answers["404 Norfolk"] = norfolk_client.get(f"{API}/cases/{case.pk}/")
    for label, response in answers.items():
        assert response.status_code == int(label[:3]), (label, response.status_code, response.content[:300])
        body = response.json()
        jsonschema.validate(body, error_schema)
        assert body["error"]["status"] == response.status_code
    assert "subjects" in answers["400"].json()["error"]["fields"]


def test_entry_date_times_answer_rfc_3339_in_every_operation(schema, cast):
    """Every documented date-time in entry answers is one RFC 3339 can write (1900..2100 in, UTC
    for older stored values): read back through each operation that answers entries."""
    import re

    rfc3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
    records = make_records(cast)
    bob = client_of(cast, "bob")
    created = bob.post(f"{API}/cases/{records['case'].pk}/timeline/", {"kind": "visit", "summary": "Early",
                       "occurred_at": "1900-01-01T00:00:00+01:00"}, content_type="application/json")  # fmt: skip
    assert created.status_code == 400  # 1899-12-31 in UTC: out of range
    created = bob.post(f"{API}/cases/{records['case'].pk}/timeline/", {"kind": "visit", "summary": "Early",
                       "occurred_at": "1900-01-01T12:00:00Z"}, content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    for path in ("/api/v1/cases/{case_id}/timeline/", "/api/v1/profiles/{profile_id}/timeline/",
                 "/api/v1/entries/{entry_id}/"):  # fmt: skip
        answer = bob.get(fill(path, path_ids(path, records))).json()
        for entry in answer.get("results", [answer]):
            assert rfc3339.match(entry["occurred_at"]), (path, entry["occurred_at"])
            stamp = dt.datetime.fromisoformat(entry["occurred_at"].replace("Z", "+00:00"))
            assert stamp.utcoffset().seconds % 60 == 0
