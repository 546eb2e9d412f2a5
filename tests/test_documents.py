"""Documents and photos against a real S3-compatible server (moto in a subprocess, tests/s3.py).

moto does not check signatures, expiry or KMS keys, so encryption and expiry are
tested through what the application asks for (the request headers it sends, the
X-Amz-Expires it signs), and the protocol through moto.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import include, path
from django_tenants.utils import schema_context
from PIL import ExifTags, Image

from tenant_apps.accounts.models import User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.documents import access
from tenant_apps.documents.jobs import documents_sweep_all, documents_sweep_orphans, sweep_orphans
from tenant_apps.documents.models import Document
from tenant_apps.documents.services import (
    StorageUnavailable,
    document_delete,
    document_download_url,
    document_store,
)
from tests.conftest import sign_in
from tests.s3 import S3Server, documents_storage_settings

urlpatterns = [
    path("documents/", include("tenant_apps.documents.urls")),
    path("", include("concord.urls_partnership")),
]
URLCONF = "tests.test_documents"

OPEN = "test_open"  # anyone signed in may see these
PRIVATE = "test_private"  # only the user whose pk is the attached id


@pytest.fixture(autouse=True)
def rules():
    access.register(OPEN, lambda user, attached_id: True)
    access.register(PRIVATE, lambda user, attached_id: str(user.pk) == attached_id)
    yield
    access.unregister(OPEN)
    access.unregister(PRIVATE)


def person(schema: str, email: str) -> User:
    with schema_context(schema):
        return User.objects.get(email=email)


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)  # the browser's claim: ignored


def store(schema: str, email: str, name: str, data: bytes, *, kind: str = OPEN, attached_id: str = "1") -> Document:
    user = person(schema, email)
    with schema_context(schema):
        return document_store(request_or_user=user, file=upload(name, data), attached_to_type=kind,
                              attached_to_id=attached_id)  # fmt: skip


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def download(schema: str, email: str, document: Document) -> tuple[str, bytes, dict[str, str]]:
    with schema_context(schema):
        url = document_download_url(user=person(schema, email), document=document)
    status, headers, body = fetch(url)
    assert status == 200, body[:300]
    return url, body, headers


def jpeg_with_gps() -> bytes:
    """A 64x48 photo as a phone takes it: turned (Orientation 6), with a GPS position and a maker."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 14.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (1.0, 9.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at 12 Acacia Avenue")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input has GPS
    return data


def png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "52.2411 N, 1.1500 E")
    out = io.BytesIO()
    Image.new("RGBA", (10, 20), (0, 128, 0, 255)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
KEY = re.compile(r"^suffolk/documents/\d{4}/\d{2}/[0-9a-f-]{36}\.(jpg|png|pdf|txt)$")


# --- Round trips -------------------------------------------------------------------------


def test_a_photo_is_stored_without_its_location_and_comes_back_by_a_short_lived_url(db, s3):
    original = jpeg_with_gps()
    document = store("suffolk", "bob@suffolk.test", "IMG_0001.jpg", original)

    assert KEY.match(document.storage_key), document.storage_key
    assert document.storage_key.endswith(f"{document.pk}.jpg")
    assert s3.object_keys() == [document.storage_key]
    assert document.content_type == "image/jpeg" and document.is_image
    assert (document.width, document.height) == (48, 64)  # the orientation was applied
    assert document.original_filename == "IMG_0001.jpg"

    url, body, headers = download("suffolk", "bob@suffolk.test", document)
    assert hashlib.sha256(body).hexdigest() == document.sha256 and len(body) == document.size
    stored = Image.open(io.BytesIO(body))
    assert stored.format == "JPEG" and stored.size == (48, 64)
    assert dict(stored.getexif()) == {} and "exif" not in stored.info and "comment" not in stored.info
    assert b"Exif" not in body and b"PhoneMaker" not in body and b"Acacia" not in body
    assert headers["content-type"] == "image/jpeg"
    assert headers["content-disposition"].startswith("attachment;") and "IMG_0001.jpg" in headers["content-disposition"]

    with schema_context("suffolk"):
        assert AuditEvent.objects.filter(action="document.uploaded", object_id=str(document.pk)).count() == 1
        assert AuditEvent.objects.filter(action="document.downloaded", object_id=str(document.pk)).count() == 1


def test_a_png_loses_its_text_chunks_and_a_pdf_is_stored_as_sent(db, s3):
    png = store("suffolk", "bob@suffolk.test", "map.png", png_with_text())
    _, body, _ = download("suffolk", "bob@suffolk.test", png)
    image = Image.open(io.BytesIO(body))
    assert image.format == "PNG" and image.size == (10, 20) and "Location" not in image.info
    assert b"Location" not in body and b"52.2411" not in body

    pdf = store("suffolk", "bob@suffolk.test", "../../etc/Referral form.pdf", PDF_BYTES)
    assert pdf.content_type == "application/pdf" and not pdf.is_image and pdf.width is None
    assert pdf.original_filename == "Referral form.pdf"  # no path: display only
    _, body, headers = download("suffolk", "bob@suffolk.test", pdf)
    assert body == PDF_BYTES
    assert headers["content-type"] == "application/pdf"


def test_plain_text_and_office_files_are_recognised_by_content(db, s3):
    import zipfile

    text = store("suffolk", "bob@suffolk.test", "photo.jpg", "Notes: met at the café £5\n".encode())
    assert text.content_type == "text/plain; charset=utf-8" and text.storage_key.endswith(".txt")
    url, _, headers = download("suffolk", "bob@suffolk.test", text)
    assert "photo.txt" in headers["content-disposition"]  # the name's extension follows the content

    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    word = store("suffolk", "bob@suffolk.test", "letter.pdf", docx.getvalue())
    assert word.content_type.endswith("wordprocessingml.document")

    odt = io.BytesIO()
    with zipfile.ZipFile(odt, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    odt_document = store("suffolk", "bob@suffolk.test", "minutes.odt", odt.getvalue())
    assert odt_document.content_type.endswith("opendocument.text")


# --- Refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("photo.jpg", b"  <script>fetch('/api/v1/')</script>"),
        ("photo.jpg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"),
        ("report.pdf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 32),
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 40),
        ("photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),
    ],
)
def test_a_disguised_or_unknown_file_is_refused_naming_the_field(db, s3, name, data):
    with pytest.raises(ValidationError) as refused:
        store("suffolk", "bob@suffolk.test", name, data)
    assert list(refused.value.message_dict) == ["file"]
    assert s3.object_keys() == []
    with schema_context("suffolk"):
        assert not Document.objects.exists()


def test_a_macro_enabled_office_file_is_refused(db, s3):
    import zipfile

    docm = io.BytesIO()
    with zipfile.ZipFile(docm, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/vbaProject.bin", b"\x00macro")
    with pytest.raises(ValidationError, match="macros"):
        store("suffolk", "bob@suffolk.test", "letter.docx", docm.getvalue())


def test_an_oversize_file_is_refused_with_the_limit_in_mb(db, s3, settings):
    settings.DOCUMENT_MAX_BYTES = 512 * 1024
    with pytest.raises(ValidationError) as refused:
        store("suffolk", "bob@suffolk.test", "big.txt", b"a" * (512 * 1024 + 1))
    assert refused.value.message_dict == {"file": ["The file is too large: the limit is 0.5 MB."]}
    assert store("suffolk", "bob@suffolk.test", "fits.txt", b"a" * (512 * 1024)).size == 512 * 1024
    with override_settings(DOCUMENT_MAX_BYTES=25 * 1024 * 1024), pytest.raises(ValidationError, match="25 MB"):
        file = upload("huge.pdf", b"%PDF-")
        file.size = 26 * 1024 * 1024  # refused from the size announced, before reading
        with schema_context("suffolk"):
            document_store(request_or_user=person("suffolk", "bob@suffolk.test"), file=file, attached_to_type=OPEN,
                           attached_to_id="1")  # fmt: skip


def test_an_image_with_too_many_pixels_is_refused_before_decoding(db, s3, settings):
    settings.DOCUMENT_MAX_IMAGE_PIXELS = 1000
    out = io.BytesIO()
    Image.new("L", (100, 100)).save(out, "PNG")
    with pytest.raises(ValidationError, match="too large"):
        store("suffolk", "bob@suffolk.test", "bomb.png", out.getvalue())


def test_an_unregistered_attachment_type_is_refused(db, s3):
    with pytest.raises(access.UnknownAttachmentType):
        store("suffolk", "bob@suffolk.test", "a.txt", b"hello", kind="nobody_registered_this")
    assert s3.object_keys() == []


# --- Encryption and expiry: what the application asks for --------------------------------


def test_every_upload_asks_for_server_side_encryption(db, s3):
    with s3.capture() as sent:
        documents = [
            store("suffolk", "bob@suffolk.test", "a.jpg", jpeg_with_gps()),
            store("suffolk", "bob@suffolk.test", "b.pdf", PDF_BYTES),
            store("suffolk", "bob@suffolk.test", "c.txt", b"plain words"),
        ]
    puts = [request for request in sent if request.operation in ("PutObject", "CreateMultipartUpload")]
    assert len(puts) == 3
    for request in puts:
        assert request.headers.get("x-amz-server-side-encryption") == "AES256", request.headers
        assert "x-amz-content-sha256" in request.headers and "authorization" in request.headers  # signed
    for document in documents:
        head = s3.client.head_object(Bucket=s3.bucket, Key=document.storage_key)
        assert head["ServerSideEncryption"] == "AES256"
        assert head["ContentType"] == document.content_type


def test_a_download_url_expires_within_60_seconds_and_works_at_once(db, s3, settings):
    document = store("suffolk", "bob@suffolk.test", "note.txt", b"hello")
    for asked in (60, 5):
        settings.AWS_QUERYSTRING_EXPIRE = asked
        with schema_context("suffolk"):
            url = document_download_url(user=person("suffolk", "bob@suffolk.test"), document=document)
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert int(query["X-Amz-Expires"][0]) == asked <= 60
        assert urlsplit(url).path == f"/{s3.bucket}/{document.storage_key}"
        assert query["response-content-disposition"][0].startswith("attachment")
        status, _, body = fetch(url)
        assert (status, body) == (200, b"hello")


# --- Isolation and access --------------------------------------------------------------------


@override_settings(ROOT_URLCONF=URLCONF)
def test_the_download_view_redirects_to_a_presigned_url_without_caching(db, s3, alice_client):
    document = store("suffolk", "bob@suffolk.test", "note.txt", b"for the team")
    response = alice_client.get(f"/documents/{document.pk}/download/")
    assert response.status_code == 302
    assert "no-store" in [part.strip() for part in response["Cache-Control"].split(",")]
    assert int(parse_qs(urlsplit(response["Location"]).query)["X-Amz-Expires"][0]) <= 60
    assert fetch(response["Location"])[2] == b"for the team"
    with schema_context("suffolk"):
        event = AuditEvent.objects.get(action="document.downloaded", object_id=str(document.pk))
        assert event.actor.email == "alice@suffolk.test" and event.ip_address == "127.0.0.1"


@override_settings(ROOT_URLCONF=URLCONF)
def test_missing_and_not_yours_look_the_same(db, s3, suffolk_client, norfolk_client):
    bob = person("suffolk", "bob@suffolk.test")
    private = store("suffolk", "bob@suffolk.test", "bob.txt", b"mine", kind=PRIVATE, attached_id=str(bob.pk))
    shared = store("suffolk", "bob@suffolk.test", "all.txt", b"ours")

    sign_in(suffolk_client, "alice@suffolk.test")
    missing = suffolk_client.get(f"/documents/{uuid.uuid4()}/download/")
    not_hers = suffolk_client.get(f"/documents/{private.pk}/download/")
    assert missing.status_code == not_hers.status_code == 404
    assert "amazonaws" not in not_hers.get("Location", "") and private.storage_key.encode() not in not_hers.content

    # Norfolk's admin, with a rule that lets anyone see the document, on Norfolk's host: the id
    # names nothing in Norfolk's schema.
    sign_in(norfolk_client, "nina@norfolk.test")
    assert norfolk_client.get(f"/documents/{shared.pk}/download/").status_code == 404

    # A deleted document, and one whose type lost its rule, are refused too (fail closed).
    with schema_context("suffolk"):
        document_delete(request_or_user=bob, document=shared, reason="uploaded to the wrong case")
    assert suffolk_client.get(f"/documents/{shared.pk}/download/").status_code == 404
    other = store("suffolk", "bob@suffolk.test", "x.txt", b"x")
    access.unregister(OPEN)
    assert suffolk_client.get(f"/documents/{other.pk}/download/").status_code == 404
    with schema_context("suffolk"):
        assert not AuditEvent.objects.filter(action="document.downloaded").exists()


def test_a_document_key_from_another_partnership_is_never_signed(db, s3):
    document = store("suffolk", "bob@suffolk.test", "note.txt", b"suffolk only")
    document.storage_key = "norfolk/" + document.storage_key.split("/", 1)[1]  # a tampered row
    with schema_context("suffolk"), pytest.raises(PermissionDenied):
        document_download_url(user=person("suffolk", "bob@suffolk.test"), document=document)


def test_each_partnership_writes_under_its_own_prefix(db, s3):
    suffolk_doc = store("suffolk", "bob@suffolk.test", "s.txt", b"suffolk")
    norfolk_doc = store("norfolk", "nina@norfolk.test", "n.txt", b"norfolk")
    assert suffolk_doc.storage_key.startswith("suffolk/documents/")
    assert norfolk_doc.storage_key.startswith("norfolk/documents/")
    assert s3.object_keys("suffolk/") == [suffolk_doc.storage_key] and s3.object_keys("norfolk/") == [
        norfolk_doc.storage_key
    ]


# --- Failures and the sweep --------------------------------------------------------------------


def test_storage_down_refuses_the_upload_clearly_and_writes_nothing(db, settings):
    server = S3Server()
    server.start()
    try:
        server.client().create_bucket(Bucket="outage", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        documents_storage_settings(settings, endpoint_url=server.endpoint_url, bucket="outage")
        assert store("suffolk", "bob@suffolk.test", "before.txt", b"stored while up").is_stored
        server.stop()  # the outage

        with schema_context("suffolk"):
            documents_before = Document.objects.count()
            events_before = AuditEvent.objects.filter(action="document.uploaded").count()
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as refused:
            store("suffolk", "bob@suffolk.test", "during.txt", b"not stored")
        assert time.monotonic() - started < 15  # fails fast (connect timeout, few retries)
        assert str(refused.value) == (
            "Files cannot be stored at the moment; nothing was saved. Try again in a few minutes."
        )
        with schema_context("suffolk"):
            assert Document.objects.count() == documents_before
            assert AuditEvent.objects.filter(action="document.uploaded").count() == events_before
    finally:
        server.stop()


def test_a_failed_insert_deletes_the_uploaded_object(db, s3, monkeypatch):
    from tenant_apps.documents import services

    def broken(**kwargs):
        raise RuntimeError("database trouble after the upload")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError, match="database trouble"):
        store("suffolk", "bob@suffolk.test", "n.txt", b"orphan to be")
    assert s3.object_keys() == []
    with schema_context("suffolk"):
        assert not Document.objects.exists()


def test_the_sweep_removes_old_objects_without_a_row_and_keeps_the_rest(db, s3, settings):
    kept = store("suffolk", "bob@suffolk.test", "kept.txt", b"has a row")
    gone = store("suffolk", "bob@suffolk.test", "gone.txt", b"deleted row")
    with schema_context("suffolk"):
        gone_key = gone.storage_key
        Document.objects.filter(pk=gone.pk).update(status="deleted", deleted_at=gone.uploaded_at, deleted_reason="x")
    orphan = f"suffolk/documents/2025/01/{uuid.uuid4()}.txt"
    norfolk_orphan = f"norfolk/documents/2025/01/{uuid.uuid4()}.txt"
    elsewhere = "suffolk/exports/report.csv"
    for key in (orphan, norfolk_orphan, elsewhere):
        s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"x", ServerSideEncryption="AES256")

    # Young orphans are left alone: an upload may be between its PUT and its INSERT.
    with schema_context("suffolk"):
        assert sweep_orphans() == []
    time.sleep(1.1)
    settings.DOCUMENTS_ORPHAN_AGE_SECONDS = 0
    with schema_context("suffolk"):
        assert documents_sweep_orphans(schema_name="suffolk") == 2  # the job, as the worker runs it
    assert s3.object_keys() == sorted([kept.storage_key, norfolk_orphan, elsewhere])
    assert gone_key not in s3.object_keys()


def test_the_periodic_sweep_queues_one_job_per_partnership(db):
    from django.db import connection

    documents_sweep_all(timestamp=int(time.time()))
    documents_sweep_all(timestamp=int(time.time()))  # a second run queues nothing more
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args->>'schema_name' FROM procrastinate_jobs WHERE task_name = %s AND status = 'todo'",
            ["tenant_apps.documents.jobs.documents_sweep_orphans"],
        )
        schemas = sorted(row[0] for row in cursor.fetchall())
    assert {"suffolk", "norfolk"} <= set(schemas) and len(schemas) == len(set(schemas))
