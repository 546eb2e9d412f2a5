"""Attachments on timeline entries and profile photos, through the pages, against a real
S3-compatible server (moto in a subprocess, tests/s3.py).

The cast is test_casework_pages.py's: Bob (council, ASB Team) owns the records; Carl
(council, other team) sees them but not an entry restricted to the ASB Team; Dan (police)
sees nothing; Vera is a viewer in Bob's team; Nina is in Norfolk.
"""

# ruff: noqa: F811 - the cast and records fixtures are imported from test_casework_pages

from __future__ import annotations

import io
import re
import socket

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from PIL import Image

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework.models import TimelineEntry
from tenant_apps.documents.models import Document
from tenant_apps.documents.services import document_store
from tests.conftest import sign_in
from tests.s3 import documents_storage_settings
from tests.test_casework_pages import (  # noqa: F401 - fixtures
    _fresh,
    client_as,
    entry_form,
    in_suffolk,
    make_case,
    make_entry,
    make_profile,
    records,
)
from tests.test_documents import PDF_BYTES, fetch, jpeg_with_gps

DOWNLOAD = re.compile(r'href="(/documents/([0-9a-f-]{36})/download/)"')
IMAGE = re.compile(r'<img[^>]*src="(/documents/([0-9a-f-]{36})/image/)"[^>]*alt="Photo of ([^"]+)"')


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def add_entry(client: Client, case, *files, **fields):
    data = entry_form(**{"kind": "visit", "meeting_action": "", "summary": "Home visit with photo", **fields})
    if files:
        data["attachments"] = list(files)
    return client.post(f"/cases/{case.pk}/timeline/new/", data)


def documents() -> list[Document]:
    return list(in_suffolk(lambda: list(Document.objects.all())))


def store_photo(cast, profile, colour=(10, 120, 200)) -> Document:
    out = io.BytesIO()
    Image.new("RGB", (30, 40), colour).save(out, "PNG")
    with schema_context("suffolk"):
        return document_store(request_or_user=_fresh(cast["bob"]), file=upload("face.png", out.getvalue()),
                              attached_to_type="profile_photo", attached_to_id=profile.pk)  # fmt: skip


# --- Timeline attachments ------------------------------------------------------------------------


def test_bob_adds_a_visit_with_a_photo_sees_it_on_the_timeline_and_downloads_it(cast, records, s3):
    case = records["case"]
    bob = client_as(cast, "bob")
    form = bob.get(f"/cases/{case.pk}/timeline/new/").content.decode()
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form and "multiple" in form
    assert 'accept="image/jpeg,' in form and "application/pdf" in form

    photo = upload("IMG_0001.jpg", jpeg_with_gps(), "image/jpeg")
    report = upload("visit-report.pdf", PDF_BYTES, "application/pdf")
    response = add_entry(bob, case, photo, report)
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"

    entry = in_suffolk(TimelineEntry.objects.get, summary="Home visit with photo")
    stored = sorted(documents(), key=lambda d: d.original_filename)
    assert [d.original_filename for d in stored] == ["IMG_0001.jpg", "visit-report.pdf"]
    assert {(d.attached_to_type, d.attached_to_id) for d in stored} == {("timeline_entry", str(entry.pk))}
    assert s3.object_keys() == sorted(d.storage_key for d in stored)

    page = bob.get(f"/cases/{case.pk}/").content.decode()
    start = page.index(f'id="entry-{entry.pk}"')
    item = page[start : page.index("</ol>", start)]  # the entry (2 hours ago) is the oldest
    assert {uuid for _, uuid in DOWNLOAD.findall(item)} == {str(d.pk) for d in stored}
    assert "IMG_0001.jpg" in item and "visit-report.pdf" in item and "bytes)" in item

    jpeg = next(d for d in stored if d.is_image)
    download = bob.get(f"/documents/{jpeg.pk}/download/")
    assert download.status_code == 302 and "no-store" in download["Cache-Control"]
    status, headers, body = fetch(download["Location"])
    assert status == 200 and headers["content-type"] == "image/jpeg" and len(body) == jpeg.size
    assert b"Acacia" not in body  # the documents app cleaned it
    with schema_context("suffolk"):
        assert AuditEvent.objects.filter(action="document.downloaded", object_id=str(jpeg.pk)).count() == 1
    # The profile's timeline lists them too.
    assert "IMG_0001.jpg" in bob.get(f"/profiles/{records['profile'].pk}/").content.decode()


def test_who_may_download_follows_who_may_read_the_entry(cast, records, s3):
    case = records["case"]
    bob = client_as(cast, "bob")
    assert add_entry(bob, case, upload("open.pdf", PDF_BYTES), summary="Open visit").status_code == 302
    sensitive = add_entry(bob, case, upload("secret.pdf", PDF_BYTES), summary="Disclosure",
                          is_sensitive="on", restricted_to_teams=[cast["asb"].pk])  # fmt: skip
    assert sensitive.status_code == 302
    by_name = {d.original_filename: d for d in documents()}
    open_doc, secret = by_name["open.pdf"], by_name["secret.pdf"]

    carl = client_as(cast, "carl")
    page = carl.get(f"/cases/{case.pk}/").content.decode()
    assert "open.pdf" in page and "secret.pdf" not in page and str(secret.pk) not in page
    assert "Restricted entry: visit," in page
    assert carl.get(f"/documents/{open_doc.pk}/download/").status_code == 302
    assert carl.get(f"/documents/{secret.pk}/download/").status_code == 404

    dan = client_as(cast, "dan")
    for document in (open_doc, secret):
        assert dan.get(f"/documents/{document.pk}/download/").status_code == 404

    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    for document in (open_doc, secret):
        assert nina.get(f"/documents/{document.pk}/download/").status_code == 404
        assert nina.get(f"/documents/{document.pk}/image/").status_code == 404


def test_storage_down_shows_a_clear_error_and_saves_no_entry_and_no_document(cast, records, settings, db):
    with socket.socket() as sock:  # a port where nothing listens: the outage
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    documents_storage_settings(settings, endpoint_url=f"http://127.0.0.1:{port}", bucket="outage")
    bob = client_as(cast, "bob")
    events = in_suffolk(AuditEvent.objects.count)
    response = add_entry(bob, records["case"], upload("IMG_0002.jpg", jpeg_with_gps()))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#id_attachments"' in page and "Files cannot be stored at the moment; nothing was saved." in page
    with schema_context("suffolk"):
        assert not TimelineEntry.objects.filter(summary="Home visit with photo").exists()
        assert not Document.objects.exists()
        # The entry's event rolled back with it; the form shown again is a read of the case.
        assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)[events:]) == ["case.viewed"]


def test_a_disguised_file_names_attachments_and_nothing_is_saved(cast, records, s3):
    bob = client_as(cast, "bob")
    good = upload("IMG_0003.jpg", jpeg_with_gps())
    disguised = upload("photo.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "image/jpeg")
    response = add_entry(bob, records["case"], good, disguised)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#id_attachments"' in page and "photo.jpg: Web pages, scripts and markup are not accepted." in page
    assert in_suffolk(lambda: TimelineEntry.objects.filter(summary="Home visit with photo").exists()) is False
    assert documents() == []
    assert s3.object_keys() == []  # the good file's object, uploaded first, was deleted


def test_editing_an_entry_adds_more_attachments_all_or_nothing(cast, records, s3):
    entry = records["entry"]
    bob = client_as(cast, "bob")
    form = bob.get(f"/timeline/{entry.pk}/edit/").content.decode()
    assert 'enctype="multipart/form-data"' in form and 'name="attachments"' in form
    with schema_context("suffolk"):
        document_store(request_or_user=_fresh(cast["bob"]), file=upload("first.pdf", PDF_BYTES),
                       attached_to_type="timeline_entry", attached_to_id=entry.pk)  # fmt: skip
    from django.utils import timezone

    when = timezone.localtime(entry.occurred_at)
    data = entry_form(kind="visit", meeting_action="", summary="Spoke to Kyle at the door", version="1",
                      occurred_on_day=when.day, occurred_on_month=when.month, occurred_on_year=when.year,
                      occurred_time=when.strftime("%H:%M"))  # fmt: skip
    executable = upload("x.exe", b"MZ\x90\x00" * 20)
    refused = bob.post(f"/timeline/{entry.pk}/edit/", {**data, "body": "changed", "attachments": [executable]})
    assert 'href="#id_attachments"' in refused.content.decode() and "first.pdf" in refused.content.decode()
    with schema_context("suffolk"):
        assert TimelineEntry.objects.get(pk=entry.pk).version == 1  # the edit rolled back too
    added = bob.post(f"/timeline/{entry.pk}/edit/", {**data, "attachments": [upload("second.pdf", PDF_BYTES)]})
    assert added.status_code == 302
    assert sorted(d.original_filename for d in documents()) == ["first.pdf", "second.pdf"]
    assert len(s3.object_keys()) == 2


# --- Profile photos --------------------------------------------------------------------------------


def test_a_profile_photo_shows_on_the_profile_and_the_gallery_through_the_image_view(cast, records, s3):
    profile = records["profile"]
    bob = client_as(cast, "bob")
    page = bob.get(f"/profiles/{profile.pk}/").content.decode()
    assert "casework/silhouette.svg" in page and 'alt="No photo"' in page and 'name="photo"' in page

    refused = bob.post(f"/profiles/{profile.pk}/", {"photo": upload("face.jpg", PDF_BYTES)})
    assert refused.status_code == 400 and 'href="#id_photo"' in refused.content.decode()
    assert documents() == []

    response = bob.post(f"/profiles/{profile.pk}/", {"photo": upload("face.jpg", jpeg_with_gps(), "image/jpeg")})
    assert response.status_code == 302 and response["Location"] == f"/profiles/{profile.pk}/"
    (photo,) = documents()
    assert (photo.attached_to_type, photo.attached_to_id, photo.is_image) == ("profile_photo", str(profile.pk), True)

    page = bob.get(f"/profiles/{profile.pk}/").content.decode()
    assert IMAGE.findall(page) == [(f"/documents/{photo.pk}/image/", str(photo.pk), "Kyle Brennan")]
    gallery = bob.get(f"/gallery/?team={cast['asb'].pk}").content.decode()
    assert IMAGE.findall(gallery) == [(f"/documents/{photo.pk}/image/", str(photo.pk), "Kyle Brennan")]

    with schema_context("suffolk"):
        downloads_before = AuditEvent.objects.filter(object_type="document").count()
    image = bob.get(f"/documents/{photo.pk}/image/")
    # Read whole within the storage deadline, not streamed (issue 8 point 11: a trickling store
    # must not hold the worker); the bytes and headers are as before.
    assert image.status_code == 200 and not image.streaming
    body = image.content
    assert image["Content-Type"] == "image/jpeg" and len(body) == photo.size == int(image["Content-Length"])
    assert image["Cache-Control"] == "no-store, private"
    assert image["Content-Disposition"] == "inline"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(body)).format == "JPEG" and b"Acacia" not in body
    with schema_context("suffolk"):  # not audited per view: the profile view is
        assert AuditEvent.objects.filter(object_type="document").count() == downloads_before

    # The newest photo is the profile's photo.
    newer = store_photo(cast, profile)
    assert IMAGE.findall(bob.get(f"/profiles/{profile.pk}/").content.decode())[0][1] == str(newer.pk)


def test_the_image_view_checks_access_and_serves_only_profile_photos(cast, records, s3):
    profile = records["profile"]
    photo = store_photo(cast, profile)
    with schema_context("suffolk"):
        attached_jpeg = document_store(
            request_or_user=_fresh(cast["bob"]),
            file=upload("a.jpg", jpeg_with_gps()),
            attached_to_type="timeline_entry",
            attached_to_id=records["entry"].pk,
        )
        pdf_photo = document_store(request_or_user=_fresh(cast["bob"]), file=upload("a.pdf", PDF_BYTES),
                                   attached_to_type="profile_photo", attached_to_id=profile.pk)  # fmt: skip
    bob = client_as(cast, "bob")
    assert bob.get(f"/documents/{photo.pk}/image/").status_code == 200
    assert bob.get(f"/documents/{attached_jpeg.pk}/image/").status_code == 404  # downloads only (audited)
    assert bob.get(f"/documents/{pdf_photo.pk}/image/").status_code == 404  # not an image
    assert bob.get("/documents/00000000-0000-0000-0000-000000000000/image/").status_code == 404
    carl = client_as(cast, "carl")
    assert carl.get(f"/documents/{photo.pk}/image/").status_code == 200  # sees the profile
    dan = client_as(cast, "dan")
    assert dan.get(f"/documents/{photo.pk}/image/").status_code == 404
    vera = client_as(cast, "vera")
    assert 'name="photo"' not in vera.get(f"/profiles/{profile.pk}/").content.decode()
    assert vera.post(f"/profiles/{profile.pk}/", {"photo": upload("v.png", b"x")}).status_code == 403
    assert Client(HTTP_HOST="suffolk.localhost").get(f"/documents/{photo.pk}/image/").status_code == 302


def test_the_gallery_runs_as_many_queries_for_ten_photo_cards_as_for_two(cast, s3, django_assert_num_queries):
    for number in range(2):
        profile = make_profile(cast, first_name=f"Pic{number}", last_name="Card")
        make_case(cast, profile)
        store_photo(cast, profile)
    bob = client_as(cast, "bob")
    url = f"/gallery/?team={cast['asb'].pk}"
    bob.get(url)  # warm the per-process caches
    with CaptureQueriesContext(connection) as two:
        page = bob.get(url).content.decode()
    assert len(IMAGE.findall(page)) == 2
    for number in range(2, 10):
        profile = make_profile(cast, first_name=f"Pic{number}", last_name="Card")
        make_case(cast, profile)
        store_photo(cast, profile)
    with django_assert_num_queries(len(two)):
        page = bob.get(url).content.decode()
    assert len(IMAGE.findall(page)) == 10


def test_without_a_photo_the_gallery_shows_the_silhouette(cast, records):
    page = client_as(cast, "bob").get(f"/gallery/?team={cast['asb'].pk}").content.decode()
    assert "casework/silhouette.svg" in page and IMAGE.findall(page) == []
