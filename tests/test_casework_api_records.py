"""The casework API on families, a profile's details, merging and entry attachments.

The cast is tests/test_casework_api.py's: Bob owns (council, ASB Team); Carl is in the
council's other team (sees the case, not the entry restricted to the ASB Team); Dan is
police (404 everywhere); Vera is a viewer in Bob's team (403 on writes); Nina is in
Norfolk (404). Attachments go to a real S3-compatible server (moto, tests/s3.py).
"""

# ruff: noqa: F811 - the cast, bob and records fixtures are imported from test_casework_api

from __future__ import annotations

import socket

from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework import services
from tenant_apps.casework.models import FamilyMember, Profile, ProfileIdentifier, TimelineEntry
from tenant_apps.documents.models import Document
from tests.conftest import sign_in
from tests.s3 import documents_storage_settings
from tests.test_casework_api import (  # noqa: F401 - fixtures
    API,
    bob,
    client_of,
    error_of,
    json_post,
    make_profile,
    records,
)
from tests.test_documents import PDF_BYTES, fetch, jpeg_with_gps


def delete(client, path, version):
    return client.delete(f"{path}?version={version}")


def events(action: str) -> int:
    with schema_context("suffolk"):
        return AuditEvent.objects.filter(action=action).count()


# --- Families ------------------------------------------------------------------------------------


def test_families_create_add_list_retrieve_and_remove_with_hidden_members_counted(cast, records, bob):
    profile = records["profile"]
    created = json_post(bob, f"{API}/families/", {"name": "The Brennans", "owning_team": cast["asb"].pk})
    assert created.status_code == 201, created.content
    family = created.json()
    assert family["members"] == [] and family["hidden_members"] == 0 and family["version"] == 1
    url = f"{API}/families/{family['id']}/"

    added = json_post(bob, f"{url}members/", {"version": 1, "profile": profile.pk, "relationship": "parent"})
    assert added.status_code == 201, added.content
    body = added.json()
    assert [(m["profile"]["id"], m["relationship"]) for m in body["members"]] == [(profile.pk, "parent")]
    assert body["version"] == 2
    # Stale version: 409, nothing added.
    second = make_profile(cast, first_name="Tia")
    stale = json_post(bob, f"{url}members/", {"version": 1, "profile": second.pk, "relationship": "child"})
    assert error_of(stale, 409)["code"] == "changed_since_opened"
    # A profile Bob cannot see is the same field error as a bad id.
    with schema_context("suffolk"):
        hidden = services.profile_create(user=cast["dan"], owning_team=cast["snt"], first_name="Dan's", last_name="Own")
    refused = json_post(bob, f"{url}members/", {"version": 2, "profile": hidden.pk, "relationship": "child"})
    assert "profile" in error_of(refused, 400)["fields"]
    # A member Bob cannot see is counted, never listed.
    with schema_context("suffolk"):
        secret_member = FamilyMember.objects.create(family_id=family["id"], profile=hidden, relationship="carer")
    seen = bob.get(url).json()
    assert seen["hidden_members"] == 1 and [m["profile"]["id"] for m in seen["members"]] == [profile.pk]
    assert "Dan's" not in bob.get(url).content.decode()
    listed = bob.get(f"{API}/families/").json()
    assert listed["count"] == 1 and listed["results"][0]["name"] == "The Brennans"
    # The hidden member cannot be removed (404, like a missing one).
    assert error_of(delete(bob, f"{url}members/{secret_member.pk}/", 2), 404)["code"] == "not_found"

    member_id = seen["members"][0]["id"]
    assert error_of(delete(bob, f"{url}members/{member_id}/", 1), 409)["code"] == "changed_since_opened"
    assert "version" in error_of(bob.delete(f"{url}members/{member_id}/"), 400)["fields"]
    removed = delete(bob, f"{url}members/{member_id}/", 2)
    assert removed.status_code == 200 and removed.json()["members"] == [] and removed.json()["version"] == 3
    assert events("family.member_added") == 1 and events("family.member_removed") == 1

    # Dan: 404. Vera reads, 403 on writes. Nina (Norfolk): 404.
    dan, vera = client_of(cast, "dan"), client_of(cast, "vera")
    assert dan.get(url).status_code == 404 and dan.get(f"{API}/families/").json()["count"] == 0
    assert error_of(json_post(dan, f"{url}members/", {"version": 3, "profile": 1, "relationship": "child"}), 404)
    assert vera.get(url).status_code == 200
    for response in (
        json_post(vera, f"{url}members/", {"version": 3, "profile": profile.pk, "relationship": "child"}),
        json_post(vera, f"{API}/families/", {"name": "Vera's"}),
        delete(vera, f"{url}members/{secret_member.pk}/", 3),
    ):
        assert error_of(response, 403)["code"] == "permission_denied"


def test_norfolk_never_reaches_suffolk_families_profiles_or_entries(cast, records, bob, norfolk_client):
    family = json_post(bob, f"{API}/families/", {"name": "The Brennans"}).json()
    sign_in(norfolk_client, "nina@norfolk.test")
    profile_id, entry_id = records["profile"].pk, records["visit"].pk
    for path in (f"{API}/families/{family['id']}/", f"{API}/profiles/{profile_id}/addresses/",
                 f"{API}/profiles/{profile_id}/identifiers/", f"{API}/entries/{entry_id}/attachments/"):  # fmt: skip
        assert norfolk_client.get(path).status_code == 404, path
    assert (
        json_post(norfolk_client, f"{API}/profiles/{profile_id}/aliases/", {"version": 1, "name": "K"}).status_code
        == 404
    )
    assert norfolk_client.get(f"{API}/families/").json()["count"] == 0


# --- A profile's details -------------------------------------------------------------------------


def test_profile_details_add_list_and_remove_with_the_profile_version(cast, records, bob):
    profile = records["profile"]
    base = f"{API}/profiles/{profile.pk}"
    version = bob.get(f"{base}/addresses/").json()["profile_version"]

    def add(kind, data):
        nonlocal version
        response = json_post(bob, f"{base}/{kind}/", {"version": version, **data})
        assert response.status_code == 201, response.content
        version = response.json()["profile_version"]
        return response.json()["item"]

    address = add("addresses", {"line1": "3 Mill Lane", "town": "Ipswich", "postcode": "ip1 1aa"})
    assert address["postcode"] == "IP1 1AA" and address["is_current"] is True
    identifier = add("identifiers", {"kind": "nhs", "value": "943 476 5919"})
    assert identifier["value"] == "9434765919"
    warning = add("warnings", {"kind": "dogs", "note": "Two dogs"})
    vulnerability = add("vulnerabilities", {"kind": "mental_health"})
    alias = add("aliases", {"name": "Kai Brennan"})
    listed = {
        kind: bob.get(f"{base}/{kind}/").json()
        for kind in ("addresses", "identifiers", "warnings", "vulnerabilities", "aliases")
    }
    assert [a["line1"] for a in listed["addresses"]["results"]] == ["3 Mill Lane"]
    assert [w["kind"] for w in listed["warnings"]["results"]] == ["dogs"]
    assert [v["kind"] for v in listed["vulnerabilities"]["results"]] == ["mental_health"]
    assert [a["name"] for a in listed["aliases"]["results"]] == ["Kai Brennan"]
    assert all(body["profile_version"] == version for body in listed.values())

    # A bad NHS number: 400 naming the field; nothing saved.
    bad = json_post(bob, f"{base}/identifiers/", {"version": version, "kind": "nhs", "value": "943 476 5918"})
    assert "value" in error_of(bad, 400)["fields"]
    bad_postcode = json_post(bob, f"{base}/addresses/", {"version": version, "line1": "x", "postcode": "nowhere"})
    assert "postcode" in error_of(bad_postcode, 400)["fields"]
    assert "version" in error_of(json_post(bob, f"{base}/aliases/", {"name": "K"}), 400)["fields"]
    # A stale version: 409, nothing saved.
    stale = json_post(bob, f"{base}/warnings/", {"version": version - 1, "kind": "violent"})
    assert error_of(stale, 409)["code"] == "changed_since_opened"
    assert error_of(delete(bob, f"{base}/aliases/{alias['id']}/", version - 1), 409)["code"] == "changed_since_opened"
    with schema_context("suffolk"):
        assert ProfileIdentifier.objects.filter(profile=profile).count() == 1
        assert Profile.objects.get(pk=profile.pk).version == version

    # Vera reads, 403 on writes; Dan 404.
    vera, dan = client_of(cast, "vera"), client_of(cast, "dan")
    assert vera.get(f"{base}/identifiers/").status_code == 200
    assert error_of(json_post(vera, f"{base}/aliases/", {"version": version, "name": "V"}), 403)
    assert error_of(delete(vera, f"{base}/warnings/{warning['id']}/", version), 403)
    assert error_of(dan.get(f"{base}/warnings/"), 404)
    assert error_of(json_post(dan, f"{base}/aliases/", {"version": version, "name": "D"}), 404)
    assert error_of(delete(dan, f"{base}/warnings/{warning['id']}/", version), 404)

    for kind, item in (("addresses", address), ("identifiers", identifier), ("warnings", warning),
                       ("vulnerabilities", vulnerability), ("aliases", alias)):  # fmt: skip
        removed = delete(bob, f"{base}/{kind}/{item['id']}/", version)
        assert removed.status_code == 200, (kind, removed.content)
        version = removed.json()["profile_version"]
        assert bob.get(f"{base}/{kind}/").json()["results"] == []
    assert events("profile.identifier_added") == 1 and events("profile.alias_removed") == 1


# --- Merging -------------------------------------------------------------------------------------


def test_merge_is_audited_and_needs_both_profiles(cast, records, bob):
    keep = records["profile"]
    merge = make_profile(cast, first_name="Kylie")
    with schema_context("suffolk"):
        dans = services.profile_create(user=cast["dan"], owning_team=cast["snt"], first_name="Dee", last_name="X")
    url = f"{API}/profiles/{keep.pk}/merge/"
    assert error_of(json_post(bob, url, {"merge_id": dans.pk}), 404)["code"] == "not_found"
    assert "merge_id" in error_of(json_post(bob, url, {"merge_id": keep.pk}), 400)["fields"]
    assert error_of(json_post(client_of(cast, "vera"), url, {"merge_id": merge.pk}), 403)
    assert error_of(json_post(client_of(cast, "dan"), url, {"merge_id": dans.pk}), 404)

    merged = json_post(bob, url, {"merge_id": merge.pk})
    assert merged.status_code == 200, merged.content
    assert "Kylie Brennan" in merged.json()["aliases"]
    with schema_context("suffolk"):
        assert Profile.objects.get(pk=merge.pk).merged_into_id == keep.pk
        event = AuditEvent.objects.get(action="profile.merged")
        assert event.object_id == str(keep.pk) and f"profile {merge.pk}" in event.summary


# --- Attachments ---------------------------------------------------------------------------------


def upload(name: str, data: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_attachments_upload_list_and_download_through_s3(cast, records, bob, s3):
    entry = records["visit"]
    url = f"{API}/entries/{entry.pk}/attachments/"
    response = bob.post(url, {"file": upload("visit-report.pdf", PDF_BYTES)})
    assert response.status_code == 201, response.content
    document = response.json()
    assert document["filename"] == "visit-report.pdf" and document["size"] == len(PDF_BYTES)
    assert document["content_type"] == "application/pdf"
    with schema_context("suffolk"):
        stored = Document.objects.get(pk=document["id"])
    assert s3.object_keys() == [stored.storage_key]
    assert [d["id"] for d in bob.get(url).json()] == [document["id"]]

    link = bob.get(f"{API}/documents/{document['id']}/download-url/")
    assert link.status_code == 200, link.content
    assert link.json()["expires_in"] <= 60
    status, headers, body = fetch(link.json()["url"])
    assert status == 200 and body == PDF_BYTES and headers["content-type"] == "application/pdf"
    assert events("document.downloaded") == 1

    # A disguised file: 400 naming file, nothing saved.
    disguised = bob.post(url, {"file": upload("report.pdf", b"<!DOCTYPE html><html><script>x</script></html>")})
    assert "file" in error_of(disguised, 400)["fields"]
    assert "file" in error_of(bob.post(url, {}), 400)["fields"]
    with schema_context("suffolk"):
        assert Document.objects.count() == 1

    # Vera reads, 403 on upload; Dan and Nina 404.
    vera, dan = client_of(cast, "vera"), client_of(cast, "dan")
    assert vera.get(url).status_code == 200
    assert error_of(vera.post(url, {"file": upload("v.pdf", PDF_BYTES)}), 403)
    assert error_of(dan.get(url), 404) and error_of(dan.post(url, {"file": upload("d.pdf", PDF_BYTES)}), 404)
    assert error_of(dan.get(f"{API}/documents/{document['id']}/download-url/"), 404)
    from django.test import Client

    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    assert error_of(nina.get(f"{API}/documents/{document['id']}/download-url/"), 404)
    assert events("document.downloaded") == 1


def test_restricted_entry_attachments_are_404_for_carl(cast, records, bob, s3):
    secret = records["secret"]
    url = f"{API}/entries/{secret.pk}/attachments/"
    document = bob.post(url, {"file": upload("disclosure.pdf", PDF_BYTES)}).json()
    carl = client_of(cast, "carl")
    assert error_of(carl.get(url), 404)["code"] == "not_found"
    assert error_of(carl.post(url, {"file": upload("c.pdf", PDF_BYTES)}), 404)
    assert error_of(carl.get(f"{API}/documents/{document['id']}/download-url/"), 404)
    assert carl.get(f"{API}/entries/{records['visit'].pk}/attachments/").status_code == 200
    assert events("document.downloaded") == 0


def test_storage_down_is_503_with_the_error_shape_and_nothing_saved(cast, records, bob, settings):
    with socket.socket() as sock:  # a port where nothing listens: the outage
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    documents_storage_settings(settings, endpoint_url=f"http://127.0.0.1:{port}", bucket="outage")
    before = events("document.uploaded")
    response = bob.post(f"{API}/entries/{records['visit'].pk}/attachments/", {"file": upload("r.pdf", PDF_BYTES)})
    error = error_of(response, 503)
    assert error["code"] == "storage_unavailable" and "nothing was saved" in error["message"]
    with schema_context("suffolk"):
        assert not Document.objects.exists()
    assert events("document.uploaded") == before


def timeline_entries(summary: str) -> list[TimelineEntry]:
    with schema_context("suffolk"):
        return list(TimelineEntry.objects.filter(summary=summary))


def test_an_entry_is_created_with_its_attachments_in_one_multipart_request(cast, records, bob, s3):
    """The entry create takes multipart/form-data too: the same fields (lists as repeated fields)
    and ``attachments``, stored with the entry, all or nothing. JSON stays as it was."""
    case = records["case"]
    url = f"{API}/cases/{case.pk}/timeline/"
    created = events("timeline.entry_created")
    response = bob.post(url, {
        "kind": "visit", "occurred_at": "2025-03-27T10:00:00Z", "summary": "Visit with a report",
        "is_sensitive": "true", "restricted_to_teams": [cast["asb"].pk],
        "attachments": [upload("visit-report.pdf", PDF_BYTES), upload("photo.jpg", jpeg_with_gps(), "image/jpeg")],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    entry = response.json()
    assert entry["summary"] == "Visit with a report" and entry["is_sensitive"] is True
    assert entry["restricted_to_teams"] == [cast["asb"].pk]
    with schema_context("suffolk"):
        stored = list(Document.objects.order_by("original_filename"))
    assert [d.original_filename for d in stored] == ["photo.jpg", "visit-report.pdf"]
    assert {(d.attached_to_type, d.attached_to_id) for d in stored} == {("timeline_entry", str(entry["id"]))}
    assert s3.object_keys() == sorted(d.storage_key for d in stored)
    listed = bob.get(f"{API}/entries/{entry['id']}/attachments/").json()
    assert sorted(d["filename"] for d in listed) == ["photo.jpg", "visit-report.pdf"]
    assert events("timeline.entry_created") == created + 1

    # A profile's timeline takes them too; JSON still needs no attachments.
    profile_url = f"{API}/profiles/{records['profile'].pk}/timeline/"
    on_profile = bob.post(profile_url, {"kind": "note", "occurred_at": "2025-03-27T11:00:00Z", "summary": "Letter",
                                        "attachments": [upload("letter.pdf", PDF_BYTES)]})  # fmt: skip
    assert on_profile.status_code == 201, on_profile.content
    plain = json_post(bob, url, {"kind": "note", "occurred_at": "2025-03-27T12:00:00Z", "summary": "Plain note"})
    assert plain.status_code == 201, plain.content
    with schema_context("suffolk"):
        assert Document.objects.count() == 3


def test_a_refused_attachment_is_400_naming_attachments_and_nothing_is_saved(cast, records, bob, s3):
    url = f"{API}/cases/{records['case'].pk}/timeline/"
    disguised = upload("report.pdf", b"<!DOCTYPE html><html><script>x</script></html>")
    response = bob.post(url, {"kind": "visit", "occurred_at": "2025-03-27T10:00:00Z", "summary": "Refused",
                              "attachments": [upload("good.pdf", PDF_BYTES), disguised]})  # fmt: skip
    error = error_of(response, 400)
    assert list(error["fields"]) == ["attachments"]
    assert (
        "report.pdf:" in error["fields"]["attachments"][0] and "Nothing was saved." in error["fields"]["attachments"][0]
    )
    assert timeline_entries("Refused") == []
    with schema_context("suffolk"):
        assert not Document.objects.exists()
    assert s3.object_keys() == []  # the good file, uploaded first, was deleted
    empty = bob.post(url, {"kind": "visit", "occurred_at": "2025-03-27T10:00:00Z", "summary": "Refused",
                           "attachments": [upload("empty.pdf", b"")]})  # fmt: skip
    assert "attachments" in error_of(empty, 400)["fields"] and timeline_entries("Refused") == []


def test_storage_down_refuses_an_entry_with_attachments_503_and_saves_nothing(cast, records, bob, settings):
    with socket.socket() as sock:  # a port where nothing listens: the outage
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    documents_storage_settings(settings, endpoint_url=f"http://127.0.0.1:{port}", bucket="outage")
    created = events("timeline.entry_created")
    response = bob.post(f"{API}/cases/{records['case'].pk}/timeline/", {
        "kind": "visit", "occurred_at": "2025-03-27T10:00:00Z", "summary": "Stored nowhere",
        "attachments": [upload("r.pdf", PDF_BYTES)],
    })  # fmt: skip
    error = error_of(response, 503)
    assert error["code"] == "storage_unavailable" and "nothing was saved" in error["message"]
    assert timeline_entries("Stored nowhere") == []
    with schema_context("suffolk"):
        assert not Document.objects.exists()
    assert events("timeline.entry_created") == created  # its audit event rolled back with it


# --- The schema ----------------------------------------------------------------------------------


def test_the_openapi_schema_lists_the_paths(cast, bob):
    paths = bob.get("/api/schema/", {"format": "json"}).json()["paths"]
    expected = {
        "/api/v1/families/": {"get", "post"},
        "/api/v1/families/{family_id}/": {"get"},
        "/api/v1/families/{family_id}/members/": {"post"},
        "/api/v1/families/{family_id}/members/{member_id}/": {"delete"},
        "/api/v1/profiles/{profile_id}/merge/": {"post"},
        "/api/v1/entries/{entry_id}/attachments/": {"get", "post"},
        "/api/v1/documents/{document_id}/download-url/": {"get"},
    }
    for kind in ("addresses", "identifiers", "warnings", "vulnerabilities", "aliases"):
        expected[f"/api/v1/profiles/{{profile_id}}/{kind}/"] = {"get", "post"}
        expected[f"/api/v1/profiles/{{profile_id}}/{kind}/{{item_id}}/"] = {"delete"}
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    upload_body = paths["/api/v1/entries/{entry_id}/attachments/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body
    for timeline in ("/api/v1/cases/{case_id}/timeline/", "/api/v1/profiles/{profile_id}/timeline/"):
        create = paths[timeline]["post"]
        assert set(create["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
        assert "503" in create["responses"] and "attachments" in create["description"]
    assert "/api/v1/profiles/{profile_id}/" in paths  # the casework include still resolves beside ours
