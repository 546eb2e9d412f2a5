"""/api/docs/: the OpenAPI schema as a server-rendered page (concord.api.docs) in place of Swagger UI.

Every operation of the schema /api/schema/ serves is on it, with its parameters, bodies, answers and
security; security schemes are rendered by what they hold, whatever their type (another change adds
an API-token scheme); the schema's text is escaped; who may read it is who may read the schema.
The browser checks (axe at 1280 and 360 px, no CSP error) are in tests/browser/test_reference_and_forms.py.
"""

from __future__ import annotations

import html
import re

from django.test import Client

from concord.api.docs import api_reference
from tests.conftest import PASSWORD
from tests.test_casework_pages import client_as

METHODS = ("get", "post", "put", "patch", "delete")


def test_every_operation_of_the_schema_is_on_the_page_with_its_parts(db, alice_client):
    schema = alice_client.get("/api/schema/", {"format": "json"}).json()
    response = alice_client.get("/api/docs/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    operations = [(path, method, operation) for path, item in schema["paths"].items()
                  for method, operation in item.items() if method in METHODS]  # fmt: skip
    assert len(operations) >= 50
    for path, method, operation in operations:
        heading = re.search(rf'<h3[^>]*id="operation-{operation["operationId"]}">(.*?)</h3>', page, re.S)
        assert heading, operation["operationId"]
        assert f">{method.upper()}</strong> {path}" in html.unescape(heading.group(1)), path
    timeline = page[page.index('id="operation-cases_timeline_add"') :]
    timeline = timeline[: timeline.index("</section>")]
    assert "Idempotency-Key" in timeline and "case_id" in timeline and "in the path" in timeline
    assert 'href="#schema-TimelineEntryCreateInputRequest"' in timeline and "multipart/form-data" in timeline
    assert 'href="#security-cookieAuth"' in timeline and '<dt class="govuk-summary-list__key">422</dt>' in timeline
    # Each component once, its fields with type, whether required, limits and description.
    for name in schema["components"]["schemas"]:
        assert page.count(f'id="schema-{name}"') == 1, name
    error = page[page.index('id="schema-Error"') :]
    assert "error.status" in error and "error.fields" in error and "The one error shape of the API." in error
    assert "Sent in" in page and "concord_session" in page  # the session cookie scheme
    assert 'href="/api/schema/"' in page and 'href="/api/schema/?format=json"' in page
    assert "swagger" not in page.lower()


def test_security_schemes_are_rendered_by_what_they_hold():
    schema = {
        "info": {"title": "T", "version": "1"},
        "security": [{"apiToken": ["cases:read"]}],
        "paths": {
            "/api/v1/things/": {"get": {"operationId": "things_list", "responses": {"200": {"description": "Fine"}}}},
            "/api/v1/open/": {"get": {"operationId": "open", "security": [{}], "responses": {}}},
            "/api/v1/either/": {"post": {"operationId": "either", "security": [{"cookieAuth": []}, {"apiToken": []}],
                                         "responses": {}}},
        },
        "components": {
            "securitySchemes": {
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "concord_session"},
                "apiToken": {"type": "http", "scheme": "bearer", "bearerFormat": "opaque",
                             "description": "A partner system's ``token``."},
                "partnerOAuth": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": "/o/token/", "scopes": {"cases:read": "Read cases", "cases:write": "Write <cases>"}}}},
                "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://id.example/.well-known"},
                "future": {"type": "somethingNew", "x-detail": "kept"},
            }
        },
    }  # fmt: skip
    api = api_reference(schema)
    schemes = {scheme.name: {row.key: str(row.value) for row in scheme.fields} for scheme in api.security_schemes}
    assert schemes["cookieAuth"] == {"Type": "apiKey", "Sent in": "cookie", "Name": "concord_session"}
    assert schemes["apiToken"] == {"Type": "http", "HTTP scheme": "bearer", "Bearer format": "opaque"}
    assert str(api.security_schemes[1].description) == "A partner system&#x27;s <code>token</code>."
    assert schemes["partnerOAuth"]["clientCredentials: tokenUrl"] == "/o/token/"
    assert schemes["partnerOAuth"]["clientCredentials: scopes"] == (
        "<code>cases:read</code>: Read cases; <code>cases:write</code>: Write &lt;cases&gt;"
    )
    assert schemes["oidc"]["OpenID Connect URL"] == "https://id.example/.well-known"
    assert schemes["future"] == {"Type": "somethingNew", "x-detail": "kept"}
    security = {op.path: str(op.security) for group in api.groups for op in group.operations}
    assert (
        security["/api/v1/things/"]
        == '<a class="govuk-link" href="#security-apiToken">apiToken</a> (scopes: cases:read)'
    )
    assert security["/api/v1/open/"] == "No sign-in needed"
    assert security["/api/v1/either/"] == (
        '<a class="govuk-link" href="#security-cookieAuth">cookieAuth</a> or '
        '<a class="govuk-link" href="#security-apiToken">apiToken</a>'
    )
    assert [group.name for group in api.groups] == ["either", "open", "things"]


def test_the_schemas_text_is_escaped():
    schema = {
        "info": {"title": "<b>T</b>", "version": "1", "description": "<script>alert(1)</script> ``ok``"},
        "paths": {"/x/{id}/": {"get": {"operationId": "x", "description": "<img src=x onerror=alert(1)>",
                                       "parameters": [{"in": "path", "name": "<i>id</i>", "required": True,
                                                       "schema": {"type": "integer", "enum": ["<u>"]}}],
                                       "responses": {"200": {"description": "<em>fine</em>"}}}}},
        "components": {"schemas": {"A": {"type": "object", "properties": {"<s>": {"type": "string",
                                                                                 "description": "<hr>"}}}}},
    }  # fmt: skip
    api = api_reference(schema)
    (operation,) = api.groups[0].operations
    texts = [str(api.description), str(operation.description), str(operation.parameters[0].value),
             str(operation.responses[0].value), str(api.schemas[0].fields[0].value)]  # fmt: skip
    assert str(api.description) == "&lt;script&gt;alert(1)&lt;/script&gt; <code>ok</code>"
    for text in texts:
        assert "<script" not in text and "<img" not in text and "<em>" not in text and "<hr>" not in text
        assert "<u>" not in text
    assert operation.parameters[0].key == "<i>id</i>"  # a key is text: the template escapes it


def test_who_may_read_the_docs_is_who_may_read_the_schema(cast, norfolk_client):
    vera = client_as(cast, "vera")
    for path in ("/api/schema/", "/api/docs/"):
        anonymous = Client(HTTP_HOST="suffolk.localhost").get(path)
        assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "not_authenticated", path
        half = Client(HTTP_HOST="suffolk.localhost")
        half.post("/account/sign-in/", {"email": "carl@suffolk.test", "password": PASSWORD})
        refused = half.get(path)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "second_factor_required", path
        assert vera.get(path).status_code == 200, path  # a viewer reads the reference
    # Suffolk's session is nobody on Norfolk's host.
    suffolk = client_as(cast, "bob")
    norfolk_client.cookies = suffolk.cookies
    assert norfolk_client.get("/api/docs/").status_code == 403
