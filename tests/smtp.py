"""A real SMTP server on loopback for tests (aiosmtpd, in a thread of the test process).

Registered for every test by ``pytest_plugins = ["tests.smtp"]`` in tests/conftest.py.

    def test_something(smtp_server):
        ...                              # Django's SMTP backend now talks to it
        smtp_server.wait_for(1)
        assert smtp_server.messages[0]["Subject"] == "Hello"
        smtp_server.stop()               # an outage: connections are refused
        smtp_server.start()              # back, on the same port

``refuse_with`` replies to DATA with that line instead of accepting (a 5xx
refusal). ``delay`` makes the server hold its reply to DATA for that many seconds
(a slow server; a worker can be killed meanwhile). ``in_data`` is set when a
client has sent a whole message and waits for the reply. A message counts as
received only once the server has replied 250 to a client still connected, as an
MTA takes responsibility for it only then.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server: SMTPTestServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        self.server.in_data.set()
        deadline = time.monotonic() + self.server.delay
        while time.monotonic() < deadline:
            if smtp.transport is None or smtp.transport.is_closing():
                return "421 client went away"  # never reaches anyone; not received
            await asyncio.sleep(0.05)
        if smtp.transport is None or smtp.transport.is_closing():
            return "421 client went away"
        if self.server.refuse_with:
            return self.server.refuse_with
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append(message)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SMTPTestServer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.host = host
        self.port = port or _free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs) per message
        self.delay = 0.0
        self.refuse_with = ""  # e.g. "550 5.7.1 Refused": the reply to DATA instead of accepting
        self.in_data = threading.Event()
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=10)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """Wait until ``count`` messages have arrived; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} e-mail(s) within {timeout}s, got {len(self.messages)}")


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server; Django's SMTP backend points at it for this test."""
    server = SMTPTestServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django sets locmem
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        server.stop()
