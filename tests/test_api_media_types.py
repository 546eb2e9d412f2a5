"""The API takes JSON only, multipart only where files are uploaded (issue 18, point 6).

A form-encoded body (what a cross-site ``<form>`` sends), a multipart body to a view that takes
no files, or any other type is a 415 in the API's error shape, and changes nothing. The cast
(tests/test_casework_api.py): Bob owns the records in Suffolk; Nina, in Norfolk, gets the same
415 for a Suffolk id as for an id that does not exist (no existence oracle), and 404 in JSON.
"""

# ruff: noqa: F811 - the cast, bob and records fixtures are imported from test_casework_api

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context
from rest_framework.parsers import FormParser, MultiPartParser

from concord.api import BaseApi
from tenant_apps.casework.models import Profile, TimelineEntry
from tenant_apps.documents.models import Document
from tests.api_input_helpers import PDF_BYTES, openapi_schema, operations
from tests.conftest import sign_in
from tests.test_casework_api import API, bob, error_of, records  # noqa: F401 - fixtures
from tests.test_casework_api_records import upload

FORM = "application/x-www-form-urlencoded"
JSON_ONLY = "The body must be sent as application/json."


def form_post(client, path, data, method="post"):
    return getattr(client, method)(path, urlencode(data, doseq=True), content_type=FORM)


def assert_415(response, message: str) -> None:
    error = error_of(response, 415)
    assert error == {"status": 415, "code": "unsupported_media_type", "message": message}


def profile_count() -> int:
    with schema_context("suffolk"):
        return Profile.objects.count()


def test_the_api_refuses_form_encoded_bodies_with_415(cast, records, bob):
    profile = records["profile"]
    before = profile_count()
    body = {"first_name": "Kim", "last_name": "Walsh", "owning_team": cast["asb"].pk}

    # A form-encoded create, a multipart one (no files taken here), JSON sent as text/plain: refused.
    assert_415(form_post(bob, f"{API}/profiles/", body), JSON_ONLY)
    assert_415(bob.post(f"{API}/profiles/", body), JSON_ONLY)  # the test client's default: multipart
    assert_415(bob.post(f"{API}/profiles/", json.dumps(body), content_type="text/plain"), JSON_ONLY)
    assert profile_count() == before

    # A form-encoded change: refused, the profile as it was.
    url = f"{API}/profiles/{profile.pk}/"
    assert_415(form_post(bob, url, {"version": profile.version, "first_name": "Changed"}, method="patch"), JSON_ONLY)
    with schema_context("suffolk"):
        assert Profile.objects.get(pk=profile.pk).first_name == profile.first_name
    # Refused whether or not the view reads its body: an alias's removal takes its version in the query.
    added = bob.post(f"{url}aliases/", json.dumps({"version": profile.version, "name": "Kai"}),
                     content_type="application/json")  # fmt: skip
    assert added.status_code == 201, added.content
    alias = f"{url}aliases/{added.json()['item']['id']}/?version={added.json()['profile_version']}"
    assert_415(form_post(bob, alias, {"reason": "x"}, method="delete"), JSON_ONLY)
    assert bob.get(f"{url}aliases/").json()["results"] != []  # still there
    assert bob.delete(alias).status_code == 200  # the same removal without a body is taken

    # The same request as JSON is taken: the refusal was the media type, nothing else.
    created = bob.post(f"{API}/profiles/", json.dumps(body), content_type="application/json; charset=utf-8")
    assert created.status_code == 201, created.content
    assert profile_count() == before + 1
    # A request without a body passes, whatever Content-Type it names.
    assert bob.get(url, content_type=FORM).status_code == 200

    # Who is asking comes first: anonymous is 403, not 415.
    anonymous = Client(HTTP_HOST="suffolk.localhost")
    assert error_of(form_post(anonymous, f"{API}/profiles/", body), 403)["code"] == "not_authenticated"

    # Nina in Norfolk: the same 415 for Suffolk's id and for one that exists nowhere; 404 in JSON.
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    change = {"version": profile.version, "first_name": "Changed"}
    suffolk_id = form_post(nina, url, change, method="patch")
    nowhere = form_post(nina, f"{API}/profiles/987654321/", change, method="patch")
    assert suffolk_id.content == nowhere.content and suffolk_id.status_code == nowhere.status_code == 415
    assert error_of(nina.patch(url, json.dumps(change), content_type="application/json"), 404)
    with schema_context("suffolk"):
        assert Profile.objects.get(pk=profile.pk).first_name == profile.first_name


def _api_views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", None)
            if view is not None and issubclass(view, BaseApi):
                yield prefix + str(pattern.pattern), view


def test_multipart_is_accepted_only_where_files_are_uploaded(cast, records, bob, s3):
    # Only the views that take files parse multipart; none parses a form-encoded body.
    views = dict(_api_views(get_resolver("concord.urls_partnership").url_patterns))
    assert len(views) > 30
    multipart = {name for name, view in views.items() if MultiPartParser in view.parser_classes}
    assert multipart == {
        "api/v1/entries/<int:entry_id>/attachments/",
        "api/v1/cases/<int:case_id>/timeline/",
        "api/v1/profiles/<int:profile_id>/timeline/",
    }
    assert not [name for name, view in views.items() if FormParser in view.parser_classes]
    # The schema says the same: multipart on the three uploads, form-encoded nowhere.
    bodies = {op["operationId"]: set(op["requestBody"]["content"]) for _, _, op in operations(openapi_schema())
              if "requestBody" in op}  # fmt: skip
    assert {name for name, types in bodies.items() if "multipart/form-data" in types} == {
        "entries_attachments_upload",
        "cases_timeline_add",
        "profiles_timeline_add",
    }
    assert set().union(*bodies.values()) == {"application/json", "multipart/form-data"}

    # An attachment is uploaded as multipart; JSON or a form body there is a 415 naming multipart.
    entry = records["visit"]
    attachments = f"{API}/entries/{entry.pk}/attachments/"
    uploaded = bob.post(attachments, {"file": upload("visit-report.pdf", PDF_BYTES)})
    assert uploaded.status_code == 201, uploaded.content
    only_multipart = "The body must be sent as multipart/form-data."
    assert_415(bob.post(attachments, json.dumps({"file": "x"}), content_type="application/json"), only_multipart)
    assert_415(form_post(bob, attachments, {"file": "x"}), only_multipart)
    with schema_context("suffolk"):
        assert Document.objects.count() == 1

    # An entry is created from JSON, or multipart with its files; never from a form body.
    timeline = f"{API}/cases/{records['case'].pk}/timeline/"
    fields = {"kind": "note", "occurred_at": "2025-03-27T10:00:00Z"}
    with_files = bob.post(timeline, {**fields, "summary": "With a file", "attachments": [upload("a.pdf", PDF_BYTES)]})
    assert with_files.status_code == 201, with_files.content
    as_json = bob.post(timeline, json.dumps({**fields, "summary": "As JSON"}), content_type="application/json")
    assert as_json.status_code == 201, as_json.content
    assert_415(
        form_post(bob, timeline, {**fields, "summary": "As a form"}),
        "The body must be sent as application/json or multipart/form-data.",
    )
    with schema_context("suffolk"):
        assert not TimelineEntry.objects.filter(summary="As a form").exists()
        assert Document.objects.count() == 2
