"""Error reports reach Sentry tagged with the partnership and carry nothing personal."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sentry_sdk
from django.test import Client, override_settings
from django.urls import include, path

from concord.observability import init_sentry
from tests.conftest import PASSWORD, sign_in


class SentryReceiver(BaseHTTPRequestHandler):
    envelopes: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).envelopes.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def boom(request):
    raise RuntimeError("deliberate failure for the Sentry test")


urlpatterns = [path("boom/", boom), path("", include("concord.urls_partnership"))]


@pytest.fixture
def sentry_receiver():
    server = HTTPServer(("127.0.0.1", 0), SentryReceiver)
    SentryReceiver.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dsn = f"http://publickey@127.0.0.1:{server.server_port}/1"
    assert init_sentry(dsn, environment="test")
    yield dsn
    sentry_sdk.init()  # no DSN: sends nothing
    server.shutdown()


def test_sentry_is_off_without_a_dsn():
    assert init_sentry(None, environment="test") is False
    assert init_sentry("", environment="test") is False


def test_an_error_in_a_partnership_request_is_reported_tagged_and_scrubbed(db, sentry_receiver):
    client = Client(HTTP_HOST="suffolk.localhost", raise_request_exception=False)
    sign_in(client, "alice@suffolk.test")
    session_cookie = client.cookies["concord_session"].value
    with override_settings(SENTRY_DSN=sentry_receiver, ROOT_URLCONF=__name__):
        response = client.post(
            "/boom/",
            {"password": PASSWORD, "email": "victim.person@example.org", "notes": "lives at 4 Privet Drive"},
        )
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)

    assert SentryReceiver.envelopes, "no envelope reached the receiver"
    envelope = b"\n".join(SentryReceiver.envelopes).decode("utf-8", "replace")
    assert "deliberate failure for the Sentry test" in envelope
    assert '"partnership":"suffolk"' in envelope.replace(" ", "")
    for secret in [PASSWORD, "victim.person@example.org", "alice@suffolk.test", "Privet Drive", session_cookie]:
        assert secret not in envelope, secret
    assert "concord_session" not in envelope
