"""Thumbnails of photos on the timeline (issue 10, point 4), against a real S3-compatible server
(moto, tests/s3.py).

The cast is test_casework_pages.py's: Bob (council, ASB Team) owns the records; Carl (council,
other team) sees them but not an entry restricted to the ASB Team; Dan (police) sees nothing;
Nina is in Norfolk and must reach nothing of Suffolk's, on either host.
"""

# ruff: noqa: F811 - the cast and records fixtures are imported from test_casework_pages

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from PIL import Image

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework.models import TimelineEntry
from tenant_apps.documents.models import Document
from tests.conftest import sign_in
from tests.test_attachments import add_entry, documents, store_photo, upload
from tests.test_casework_pages import client_as, in_suffolk, make_entry, records  # noqa: F401 - fixtures
from tests.test_documents import PDF_BYTES

THUMBNAIL = re.compile(
    r'<a class="govuk-link concord-attachment" href="/documents/([0-9a-f-]{36})/download/">'
    r'<img class="concord-thumbnail" src="/documents/([0-9a-f-]{36})/thumbnail/" alt="Photo" '
    r'width="(\d+)" height="(\d+)"'
)


def jpeg(width: int = 800, height: int = 600, colour=(200, 80, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(autouse=True)
def no_kept_thumbnails():
    """Each test starts with no thumbnail kept in the process."""
    caches["thumbnails"].clear()
    yield
    caches["thumbnails"].clear()


def _by_name() -> dict[str, Document]:
    return {document.original_filename: document for document in documents()}


def test_a_photo_on_the_timeline_is_a_small_private_thumbnail_that_opens_the_audited_original(cast, records, s3):
    case = records["case"]
    bob = client_as(cast, "bob")
    response = add_entry(bob, case, upload("doorstep.jpg", jpeg()), upload("report.pdf", PDF_BYTES))
    assert response.status_code == 302
    photo, report = _by_name()["doorstep.jpg"], _by_name()["report.pdf"]

    page = bob.get(f"/cases/{case.pk}/").content.decode()
    # The thumbnail is the link to the original's (audited) download; a PDF is a plain link.
    assert THUMBNAIL.findall(page) == [(str(photo.pk), str(photo.pk), "160", "120")]
    assert f'<a class="govuk-link" href="/documents/{report.pk}/download/">report.pdf</a>' in page
    assert f"/documents/{report.pk}/thumbnail/" not in page

    events = in_suffolk(AuditEvent.objects.count)
    thumbnail = bob.get(f"/documents/{photo.pk}/thumbnail/")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
    assert thumbnail["Cache-Control"] == "private, max-age=600"  # never public: no shared cache keeps it
    assert thumbnail["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(thumbnail.content)) as image:
        assert (image.format, image.size) == ("JPEG", (160, 120))
    assert len(thumbnail.content) < photo.size
    with s3.capture() as sent:  # made on its first read, then kept in the process
        again = bob.get(f"/documents/{photo.pk}/thumbnail/")
    assert again.status_code == 200 and again.content == thumbnail.content and sent == []
    # Not audited per read: the case page that showed it was (case.viewed); the original is the evidence.
    assert in_suffolk(AuditEvent.objects.count) == events

    download = bob.get(f"/documents/{photo.pk}/download/")
    assert download.status_code == 302
    with schema_context("suffolk"):
        assert AuditEvent.objects.filter(action="document.downloaded", object_id=str(photo.pk)).count() == 1
    # The profile's timeline shows it too.
    assert str(photo.pk) in bob.get(f"/profiles/{records['profile'].pk}/").content.decode()


def test_only_those_who_may_read_the_entry_get_its_thumbnail(cast, records, s3):
    case = records["case"]
    bob = client_as(cast, "bob")
    assert add_entry(bob, case, upload("open.jpg", jpeg()), summary="Open visit").status_code == 302
    assert add_entry(bob, case, upload("secret.jpg", jpeg(colour=(0, 0, 0))), summary="Disclosure",
                     is_sensitive="on", restricted_to_teams=[cast["asb"].pk]).status_code == 302  # fmt: skip
    open_photo, secret = _by_name()["open.jpg"], _by_name()["secret.jpg"]
    assert bob.get(f"/documents/{secret.pk}/thumbnail/").status_code == 200

    carl = client_as(cast, "carl")  # sees the case, not the ASB Team's restricted entry
    page = carl.get(f"/cases/{case.pk}/").content.decode()
    assert str(open_photo.pk) in page and str(secret.pk) not in page
    assert carl.get(f"/documents/{open_photo.pk}/thumbnail/").status_code == 200
    refused = carl.get(f"/documents/{secret.pk}/thumbnail/")
    assert refused.status_code == 404 and b"\xff\xd8" not in refused.content
    # Not an image, and a record's kind without thumbnails, answer the same 404.
    with schema_context("suffolk"):
        pdf = Document.objects.create(
            storage_key="suffolk/documents/x.pdf", original_filename="x.pdf", content_type="application/pdf",
            size=1, sha256="0" * 64, uploaded_by=cast["bob"], attached_to_type="timeline_entry",
            attached_to_id=str(records["entry"].pk),
        )  # fmt: skip
    assert bob.get(f"/documents/{pdf.pk}/thumbnail/").status_code == 404
    assert bob.get("/documents/00000000-0000-0000-0000-000000000000/thumbnail/").status_code == 404

    dan = client_as(cast, "dan")  # another agency: nothing
    for document in (open_photo, secret):
        assert dan.get(f"/documents/{document.pk}/thumbnail/").status_code == 404

    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    for document in (open_photo, secret):
        assert nina.get(f"/documents/{document.pk}/thumbnail/").status_code == 404
    # Her Norfolk session means nothing on Suffolk's host: she is sent to sign in there.
    on_suffolk = Client(HTTP_HOST="suffolk.localhost")
    on_suffolk.cookies = nina.cookies
    for document in (open_photo, secret):
        answer = on_suffolk.get(f"/documents/{document.pk}/thumbnail/")
        assert answer.status_code == 302 and answer["Location"].startswith("/account/sign-in/")
    anonymous = Client(HTTP_HOST="suffolk.localhost").get(f"/documents/{open_photo.pk}/thumbnail/")
    assert anonymous.status_code == 302


def test_a_profile_photo_has_a_thumbnail_too(cast, records, s3):
    photo = store_photo(cast, records["profile"])
    bob = client_as(cast, "bob")
    response = bob.get(f"/documents/{photo.pk}/thumbnail/")
    assert response.status_code == 200 and response["Cache-Control"] == "private, max-age=600"
    assert client_as(cast, "dan").get(f"/documents/{photo.pk}/thumbnail/").status_code == 404


def test_with_storage_down_the_page_renders_and_the_thumbnail_answers_503(cast, records, s3):
    case = records["case"]
    bob = client_as(cast, "bob")
    assert add_entry(bob, case, upload("doorstep.jpg", jpeg()), summary="Visit").status_code == 302
    photo = _by_name()["doorstep.jpg"]
    assert bob.get(f"/documents/{photo.pk}/thumbnail/").status_code == 200  # made, and kept in the process

    s3.server.stop()  # the storage server itself goes down (the s3 fixture starts it again for the next test)
    page = bob.get(f"/cases/{case.pk}/")
    assert page.status_code == 200  # the page reads nothing from storage
    assert THUMBNAIL.findall(page.content.decode())[0][1] == str(photo.pk)  # the <img> shows "Photo" if it fails
    # A thumbnail already made is served from the process without storage.
    assert bob.get(f"/documents/{photo.pk}/thumbnail/").status_code == 200
    caches["thumbnails"].clear()
    down = bob.get(f"/documents/{photo.pk}/thumbnail/")
    assert down.status_code == 503 and "no-store" in down["Cache-Control"]
    assert down.content.decode() == "The image cannot be shown at the moment."
    assert bob.get(f"/documents/{photo.pk}/download/").status_code == 503  # as downloads do


def test_a_thumbnail_whose_object_is_gone_answers_404_and_is_audited(cast, records, s3):
    bob = client_as(cast, "bob")
    assert add_entry(bob, records["case"], upload("gone.jpg", jpeg()), summary="Visit").status_code == 302
    photo = _by_name()["gone.jpg"]
    s3.client.delete_object(Bucket=s3.bucket, Key=photo.storage_key)
    response = bob.get(f"/documents/{photo.pk}/thumbnail/")
    assert response.status_code == 404 and "no-store" in response["Cache-Control"]
    with schema_context("suffolk"):
        assert AuditEvent.objects.filter(action="document.missing", object_id=str(photo.pk)).count() == 1


def test_the_case_page_runs_as_many_queries_with_thirty_photos_as_with_three(cast, records, s3):
    """Thumbnails are the browser's own requests: the page's one attachments query lists them."""
    case = records["case"]
    bob = client_as(cast, "bob")

    def photos(start: int, stop: int) -> None:
        for n in range(start, stop):
            assert add_entry(bob, case, upload(f"p{n}.jpg", jpeg(40, 30)), summary=f"Visit {n}").status_code == 302

    photos(0, 3)
    url = f"/cases/{case.pk}/"
    bob.get(url)  # warm the per-process caches
    with CaptureQueriesContext(connection) as three:
        page = bob.get(url).content.decode()
    assert len(THUMBNAIL.findall(page)) == 3
    photos(3, 30)
    with CaptureQueriesContext(connection) as thirty:
        page = bob.get(url).content.decode()
    assert len(THUMBNAIL.findall(page)) == 24  # a page of 25 of the 31: the newest entry (no photo), 24 photos
    assert len(thirty) == len(three)
    assert in_suffolk(TimelineEntry.objects.filter(case=case).count) == 31


def test_a_thumbnail_waits_briefly_for_a_storage_call_when_a_page_asks_for_many_at_once(cast, records, s3,
                                                                                        monkeypatch):  # fmt: skip
    from tenants.storage import PartnershipS3Storage, StorageBusy

    bob = client_as(cast, "bob")
    assert add_entry(bob, records["case"], upload("busy.jpg", jpeg()), summary="Visit").status_code == 302
    photo = _by_name()["busy.jpg"]
    read, refusals = PartnershipS3Storage.read_bytes, []

    def busy_twice(storage, name):
        if len(refusals) < 2:  # every call in flight, twice: then one comes free
            refusals.append(name)
            raise StorageBusy("too many storage calls in flight")
        return read(storage, name)

    monkeypatch.setattr(PartnershipS3Storage, "read_bytes", busy_twice)
    assert bob.get(f"/documents/{photo.pk}/thumbnail/").status_code == 200 and len(refusals) == 2
    caches["thumbnails"].clear()

    def always_busy(storage, name):
        raise StorageBusy("too many storage calls in flight")

    monkeypatch.setattr(PartnershipS3Storage, "read_bytes", always_busy)
    assert bob.get(f"/documents/{photo.pk}/thumbnail/").status_code == 503
