"""A real S3-compatible HTTP server on loopback for tests: moto in server mode, in a subprocess.

Registered for every test by ``pytest_plugins`` in tests/conftest.py.

    def test_something(s3):
        ...                                  # STORAGES["documents"] now talks to it
        s3.client.head_object(Bucket=s3.bucket, Key="suffolk/...")
        with s3.capture() as sent:           # the requests the app's boto3 client sends
            ...
        assert sent[0].operation == "PutObject"

``with s3.server.frozen():`` stops the server with SIGSTOP for the block (a frozen store:
connections are accepted, nothing answers) and always continues it afterwards.

The server starts once per session (``s3_server``) on a free port; each test gets a
fresh bucket (``s3``), so objects never leak between tests. moto speaks the S3
protocol but does not check signatures, expiry or KMS keys
(TENANCY_PITFALLS.md): test those through what the app asks for.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.config import Config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """``python -m moto.server`` on 127.0.0.1; ``stop()`` is an outage, ``start()`` a fresh server."""

    def __init__(self, port: int | None = None):
        self.port = port or _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        if self.process is not None:
            return
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto server did not start")

    @contextlib.contextmanager
    def frozen(self):
        """The server stopped with SIGSTOP (it accepts connections, answers nothing) for the block.

        Always continued (SIGCONT) on the way out, even if the block fails: a frozen server
        would hang every later test of the session.
        """
        assert self.process is not None and self.process.poll() is None, "the server is not running"
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield self
        finally:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)  # a frozen process would never see the TERM
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="eu-west-2",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
        )


@dataclass
class SentRequest:
    operation: str
    method: str
    url: str
    headers: dict[str, str]


@dataclass
class S3:
    """What a test needs: the server, its bucket, an independent client and a request recorder."""

    server: S3Server
    bucket: str
    client: object
    sent: list[SentRequest] = field(default_factory=list)

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def object_keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(entry["Key"] for page in pages for entry in page.get("Contents", ()))

    @contextlib.contextmanager
    def capture(self):
        """Record every request the app's documents storage sends (headers as sent, after signing)."""
        from django.core.files.storage import storages

        events = storages["documents"].client.meta.events  # the client every thread shares
        sent: list[SentRequest] = []

        def record(request, **kwargs):
            operation = kwargs.get("event_name", "").rsplit(".", 1)[-1]
            headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
            sent.append(SentRequest(operation, request.method, request.url, headers))

        events.register("before-send.s3", record, unique_id="tests-s3-capture")
        try:
            yield sent
        finally:
            events.unregister("before-send.s3", unique_id="tests-s3-capture")


def documents_storage_settings(settings, *, endpoint_url: str, bucket: str) -> None:
    """Point STORAGES["documents"] (and the AWS_* settings) at ``endpoint_url``/``bucket``."""
    settings.AWS_S3_ENDPOINT_URL = endpoint_url
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    # Assigned last: changing STORAGES makes Django build the storage afresh from the above.
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "tenants.storage.PartnershipS3Storage",
            "OPTIONS": {
                "endpoint_url": endpoint_url,
                "bucket_name": bucket,
                "access_key": "testing",
                "secret_key": "testing",
            },
        },
    }


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(s3_server, settings):
    """A fresh bucket on the session's moto server; the documents storage points at it."""
    if s3_server.process is None or s3_server.process.poll() is not None:
        s3_server.process = None
        s3_server.start()  # a test stopped it
    bucket = f"concord-test-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    documents_storage_settings(settings, endpoint_url=s3_server.endpoint_url, bucket=bucket)
    yield S3(server=s3_server, bucket=bucket, client=client)
