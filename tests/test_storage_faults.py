"""Object storage faults (issue 8 points 11 and 18), against the real moto server (tests/s3.py).

- A frozen store (moto stopped with SIGSTOP: it accepts connections and answers nothing)
  or one that trickles its answer a byte at a time costs a request at most
  ``STORAGE_DEADLINE_SECONDS``, and under gunicorn with the production settings
  (infra/gunicorn.conf.py) pages that never touch storage keep answering at once.
- A document whose row is stored but whose object is gone answers 404 with a clear
  message and a ``document.missing`` audit event; storage down answers 503. Neither is
  remembered: when the file or the server comes back, the normal answer returns.

Every freeze is undone (``S3Server.frozen`` continues the server in ``finally``).
"""

# ruff: noqa: F811 - the cast and records fixtures are imported from test_casework_pages

from __future__ import annotations

import importlib.util
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context
from PIL import Image

from tenant_apps.audit.models import AuditEvent
from tenant_apps.documents.jobs import sweep_orphans
from tenant_apps.documents.models import Document
from tenant_apps.documents.services import StorageUnavailable, document_store
from tenants.storage import StorageTimeout
from tests.conftest import REPO, TOTP_SECRETS, HttpSession, free_port, project_env, sign_in
from tests.demo_partnership import GUNICORN_WITH_S3, demo_partnership, s3_launcher_env
from tests.s3 import documents_storage_settings
from tests.test_attachments import store_photo, upload
from tests.test_casework_pages import _fresh, client_as, records  # noqa: F401 - fixtures
from tests.test_documents import PDF_BYTES, fetch

STORED = "Files cannot be stored at the moment; nothing was saved. Try again in a few minutes."
MISSING = "The file of this document is missing from storage"
API = "/api/v1"


def no_store(response) -> bool:
    return "no-store" in [part.strip() for part in response["Cache-Control"].split(",")]


def missing_events() -> int:
    with schema_context("suffolk"):
        return AuditEvent.objects.filter(action="document.missing").count()


def attach(cast, entry, name: str = "report.pdf", data: bytes = PDF_BYTES) -> Document:
    with schema_context("suffolk"):
        return document_store(request_or_user=_fresh(cast["bob"]), file=upload(name, data),
                              attached_to_type="timeline_entry", attached_to_id=entry.pk)  # fmt: skip


# --- Point 18: missing is not down ---------------------------------------------------------------


def test_a_missing_file_answers_404_with_an_audit_event_until_it_is_restored(cast, records, s3):
    document = attach(cast, records["entry"])
    photo = store_photo(cast, records["profile"])
    photo_bytes = s3.client.get_object(Bucket=s3.bucket, Key=photo.storage_key)["Body"].read()
    # Behind the application's back: the rows stay, the objects go.
    for key in (document.storage_key, photo.storage_key):
        s3.client.delete_object(Bucket=s3.bucket, Key=key)

    bob = client_as(cast, "bob")
    page = bob.get(f"/documents/{document.pk}/download/")
    assert page.status_code == 404 and MISSING in page.content.decode()
    assert no_store(page)
    image = bob.get(f"/documents/{photo.pk}/image/")
    assert image.status_code == 404 and MISSING in image.content.decode() and no_store(image)
    api = bob.get(f"{API}/documents/{document.pk}/download-url/")
    assert api.status_code == 404 and no_store(api)
    error = api.json()["error"]
    assert (error["code"], error["status"]) == ("document_missing", 404) and MISSING in error["message"]
    assert missing_events() == 3
    with schema_context("suffolk"):
        events = list(AuditEvent.objects.filter(action="document.missing").order_by("pk"))
        assert [(e.object_id, e.actor_id) for e in events] == [
            (str(document.pk), cast["bob"].pk), (str(photo.pk), cast["bob"].pk), (str(document.pk), cast["bob"].pk)
        ]  # fmt: skip
        assert all("report.pdf" not in e.summary and "face" not in e.summary for e in events)  # no file names
        assert not AuditEvent.objects.filter(action="document.downloaded").exists()  # nothing was downloaded

    # Norfolk never learns that a Suffolk document exists, let alone that its file is missing.
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    for url in (f"/documents/{document.pk}/download/", f"/documents/{photo.pk}/image/"):
        response = nina.get(url)
        assert response.status_code == 404 and MISSING not in response.content.decode()
    assert nina.get(f"{API}/documents/{document.pk}/download-url/").json()["error"]["code"] == "not_found"
    assert missing_events() == 3

    # The files come back: the normal answers return (nothing was remembered).
    s3.client.put_object(Bucket=s3.bucket, Key=document.storage_key, Body=PDF_BYTES)
    s3.client.put_object(Bucket=s3.bucket, Key=photo.storage_key, Body=photo_bytes)
    page = bob.get(f"/documents/{document.pk}/download/")
    assert page.status_code == 302 and fetch(page["Location"])[2] == PDF_BYTES
    image = bob.get(f"/documents/{photo.pk}/image/")
    assert image.status_code == 200 and image.content == photo_bytes
    assert bob.get(f"{API}/documents/{document.pk}/download-url/").status_code == 200
    assert missing_events() == 3


def test_storage_down_answers_503_not_404_and_recovers_when_it_returns(cast, records, s3, settings):
    settings.STORAGE_DEADLINE_SECONDS = 1
    document = attach(cast, records["entry"])
    photo = store_photo(cast, records["profile"])
    bob = client_as(cast, "bob")
    with s3.server.frozen():
        started = time.monotonic()
        page = bob.get(f"/documents/{document.pk}/download/")
        image = bob.get(f"/documents/{photo.pk}/image/")
        api = bob.get(f"{API}/documents/{document.pk}/download-url/")
        elapsed = time.monotonic() - started
    assert page.status_code == 503 and "cannot be shown at the moment" in page.content.decode()
    assert no_store(page)
    assert image.status_code == 503 and image.content == b"The image cannot be shown at the moment."
    assert no_store(image)
    assert api.status_code == 503 and api.json()["error"]["code"] == "storage_unavailable" and no_store(api)
    assert elapsed < 3 * 1 + 2, elapsed  # three requests, each bounded by the 1 s deadline
    assert missing_events() == 0  # an outage is not a missing file

    page = bob.get(f"/documents/{document.pk}/download/")
    assert page.status_code == 302 and fetch(page["Location"])[2] == PDF_BYTES
    assert bob.get(f"/documents/{photo.pk}/image/").status_code == 200
    assert bob.get(f"{API}/documents/{document.pk}/download-url/").status_code == 200

    # A store without the bucket is misconfigured, not missing every file: 503, nothing audited.
    documents_storage_settings(settings, endpoint_url=s3.endpoint_url, bucket="no-such-bucket")
    assert bob.get(f"/documents/{document.pk}/download/").status_code == 503
    assert bob.get(f"/documents/{photo.pk}/image/").status_code == 503
    assert bob.get(f"{API}/documents/{document.pk}/download-url/").status_code == 503
    assert missing_events() == 0


# --- Point 11: every storage call is bounded -----------------------------------------------------


def _in_thread(function, timeout: float):
    """Run ``function`` in a thread; return (finished, seconds, result or exception).

    The thread has its own database connection, outside the test's transaction: only
    calls that fail before writing anything run here (so that a hang on the old code
    fails the test instead of hanging it); everything that succeeds runs in the test.
    """
    outcome = {}

    def run():
        started = time.monotonic()
        try:
            outcome["result"] = function()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcome["result"] = error
        finally:
            outcome["seconds"] = time.monotonic() - started
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), outcome.get("seconds"), outcome.get("result")


def _store_in_suffolk(cast, entry):
    def store():
        with schema_context("suffolk"):
            return document_store(request_or_user=cast["bob"], file=upload("r.pdf", PDF_BYTES),
                                  attached_to_type="timeline_entry", attached_to_id=entry.pk)  # fmt: skip

    return store


def test_an_upload_to_a_frozen_store_is_refused_within_the_deadline(cast, records, s3, settings):
    settings.STORAGE_DEADLINE_SECONDS = 2
    with s3.server.frozen():
        finished, seconds, result = _in_thread(_store_in_suffolk(cast, records["entry"]), timeout=15)
    assert finished, "the upload was still waiting on the frozen store after 15 s"
    assert isinstance(result, StorageUnavailable) and str(result) == STORED
    assert seconds < 2 + 1.5, seconds
    with schema_context("suffolk"):
        assert not Document.objects.exists()
    assert isinstance(_store_in_suffolk(cast, records["entry"])(), Document)  # thawed: uploads work again


class DrippingServer:
    """Accepts connections and answers ``HTTP/1.1 200 OK`` then one header byte every 0.2 s, for ever.

    No read ever waits longer than botocore's read timeout, so only an overall deadline ends it.
    """

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.clients: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.clients.append(client)
            threading.Thread(target=self._drip, args=(client,), daemon=True).start()

    def _drip(self, client):
        try:
            client.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            while not self.stopped.wait(0.2):
                client.sendall(b"a")
        except OSError:
            pass

    def stop(self):
        self.stopped.set()
        self.sock.close()
        for client in self.clients:
            client.close()


def test_a_store_that_trickles_its_answer_is_cut_off_at_the_deadline(cast, records, settings):
    settings.STORAGE_DEADLINE_SECONDS = 2
    drip = DrippingServer()
    try:
        documents_storage_settings(settings, endpoint_url=f"http://127.0.0.1:{drip.port}", bucket="drip")
        finished, seconds, result = _in_thread(_store_in_suffolk(cast, records["entry"]), timeout=15)
    finally:
        drip.stop()
    assert finished, "the upload was still reading the trickle after 15 s"
    assert isinstance(result, StorageUnavailable) and str(result) == STORED
    assert seconds < 2 + 1.5, seconds
    with schema_context("suffolk"):
        assert not Document.objects.exists()


def test_the_sweep_and_deletes_fail_within_the_deadline_when_the_store_is_frozen(cast, records, s3, settings):
    settings.STORAGE_DEADLINE_SECONDS = 1
    document = attach(cast, records["entry"])

    def sweep():
        with schema_context("suffolk"):
            return sweep_orphans(older_than_seconds=0)

    def delete():
        with schema_context("suffolk"):
            from tenant_apps.documents.services import documents_storage

            storage = documents_storage()
            return storage.delete(storage.name_for_key(document.storage_key))

    with s3.server.frozen():
        swept = _in_thread(sweep, timeout=15)
        deleted = _in_thread(delete, timeout=15)
    for finished, seconds, result in (swept, deleted):
        assert finished and isinstance(result, StorageTimeout), result
        assert seconds < 1 + 1.5, seconds
    # Thawed: the abandoned delete still lands (the caller was told it timed out, and a
    # delete is safe to repeat), and the sweep runs again, keeping a stored document.
    give_up = time.monotonic() + 20
    while document.storage_key in s3.object_keys() and time.monotonic() < give_up:
        time.sleep(0.2)
    assert s3.object_keys() == []
    kept = attach(cast, records["entry"])
    assert sweep() == [] and s3.object_keys() == [kept.storage_key]


# --- Point 11 under gunicorn: a frozen store does not take the site down -------------------------

SLUG = "stfaults"
EMAIL = f"priya@{SLUG}.test"
POLICE = f"pat@{SLUG}.test"
PASSWORD = "correct horse battery staple"

# gunicorn with infra/gunicorn.conf.py (the production worker model) and the test settings, the
# documents storage pointed at moto before the workers fork (tests.demo_partnership).


def gunicorn_config():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", REPO / "infra" / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def partnership(committed_db, s3):
    """A throwaway partnership with the demo casework and Priya (practitioner) who may edit a case."""
    from tenant_apps.casework.models import Case, TimelineEntry

    try:
        with demo_partnership(slug=SLUG, name="Storage Faults Community Safety Partnership",
                              practitioner=EMAIL, police=POLICE) as secret:  # fmt: skip
            TOTP_SECRETS[EMAIL] = secret
            case = Case.objects.filter(owning_team__name="ASB Team").order_by("pk").first()
            entry = (
                TimelineEntry.objects.filter(case=case, is_sensitive=False, deleted_at__isnull=True)
                .order_by("pk")
                .first()
            )
            data = {"case_id": case.pk, "entry_id": entry.pk}
            connection.set_schema_to_public()
            yield data
    finally:
        TOTP_SECRETS.pop(EMAIL, None)


class Gunicorn:
    """gunicorn -c infra/gunicorn.conf.py on a free loopback port, its log in a file (never a full pipe)."""

    def __init__(self, s3):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="storage-faults-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115 - closed in stop()
        env = project_env(**s3_launcher_env(s3))
        for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "STORAGE_DEADLINE_SECONDS",
                     "STORAGE_MAX_CALLS"):  # fmt: skip
            env.pop(name, None)  # the shipped defaults
        self.process = subprocess.Popen(
            [sys.executable, "-c", GUNICORN_WITH_S3, "-c", str(REPO / "infra" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "concord.wsgi:application"],
            env=env, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"gunicorn did not start:\n{self.output()[-4000:]}") from None
                time.sleep(0.1)

    def output(self) -> str:
        with open(self.log.name, errors="replace") as log:
            return log.read()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        os.unlink(self.log.name)


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def post_upload(port: int, host: str, cookies: dict, csrf: str, entry_id: int, data: bytes):
    """POST a file to the API; return (status, json body, seconds)."""
    import http.client

    body, content_type = multipart("file", "scan.png", data)
    headers = {"Host": host, "Content-Type": content_type, "X-CSRFToken": csrf, "Referer": f"http://{host}/",
               "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}  # fmt: skip
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", f"{API}/entries/{entry_id}/attachments/", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    return response.status, json.loads(payload or b"{}"), time.monotonic() - started


def timed_get(port: int, host: str, path: str, cookies: dict | None = None) -> tuple[int, float]:
    import http.client

    headers = {"Host": host}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    return response.status, time.monotonic() - started


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def test_a_frozen_store_does_not_take_the_site_down_under_gunicorn(partnership, s3):
    config = gunicorn_config()
    assert config.worker_class == "gthread" and config.threads > 1
    deadline = 5  # STORAGE_DEADLINE_SECONDS's default, which the server runs with
    assert config.timeout > deadline
    uploads = config.workers * config.threads + 4  # more than every thread of every worker
    host = f"{SLUG}.localhost"
    case_page = f"/cases/{partnership['case_id']}/"
    server = Gunicorn(s3)
    try:
        session = HttpSession(server.port, host)
        session.sign_in(EMAIL)
        status, _, _ = session.get(f"/cases/{partnership['case_id']}/timeline/new/")  # a form: a CSRF token
        assert status == 200 and session.last_csrf
        cookies, csrf = dict(session.cookies), session.last_csrf
        status, body, _ = post_upload(server.port, host, cookies, csrf, partnership["entry_id"], png())
        assert status == 201, body  # storage answers: an upload works
        # Warm, as a server in service is: every thread of every worker has served the page.
        warm = [threading.Thread(target=timed_get, args=(server.port, host, case_page, cookies))
                for _ in range(2 * uploads)]  # fmt: skip
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        assert timed_get(server.port, host, case_page, cookies)[0] == 200

        results: list = [None] * uploads
        with s3.server.frozen():

            def fire(index):
                try:
                    results[index] = post_upload(server.port, host, cookies, csrf, partnership["entry_id"], png())
                except Exception as error:  # noqa: BLE001 - reported below
                    results[index] = error

            threads = [threading.Thread(target=fire, args=(i,), daemon=True) for i in range(uploads)]
            for thread in threads:
                thread.start()
            time.sleep(0.5)  # the uploads are in: some wait on the frozen store
            timings = []
            for _ in range(5):
                for path, cookie in ((case_page, cookies), ("/healthz", None)):
                    status, seconds = timed_get(server.port, host, path, cookie)
                    timings.append((path, status, round(seconds, 3)))
            for thread in threads:
                thread.join(timeout=deadline + 20)
            assert not any(thread.is_alive() for thread in threads), "an upload never answered"
        assert all(status == 200 and seconds < 1 for _, status, seconds in timings), timings
        for result in results:
            assert not isinstance(result, Exception), result
            status, body, seconds = result
            assert status == 503 and body["error"]["code"] == "storage_unavailable", body
            assert body["error"]["message"] == STORED
            assert seconds < deadline + 3, seconds

        # Thawed: uploads work again (the abandoned calls end and free their places).
        give_up = time.monotonic() + 20
        while True:
            status, body, _ = post_upload(server.port, host, cookies, csrf, partnership["entry_id"], png())
            if status == 201 or time.monotonic() > give_up:
                break
            time.sleep(0.5)
        assert status == 201, body
        log = server.output()
        assert "WORKER TIMEOUT" not in log and "Internal Server Error" not in log, log[-4000:]
    finally:
        server.stop()
