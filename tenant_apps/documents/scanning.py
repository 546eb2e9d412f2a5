"""Malware scanning of uploads by ClamAV's daemon (clamd), before anything is stored.

``scan(data)`` streams the bytes to clamd (its INSTREAM command, through ``clamav-client``)
and returns what clamd found: ``None`` for a clean file, else the signature's name. It never
lets an upload through unscanned: clamd unreachable (socket missing, connection refused),
not answering within ``CLAMAV_TIMEOUT_SECONDS``, answering an error (a stream over its
``StreamMaxLength``, a scan it could not finish) or not configured at all raise
``ScannerUnavailable`` (fail closed; HTTP 503 for the API, a message on the page's form).

clamd is named by ``CLAMAV_SOCKET`` (a unix socket) or ``CLAMAV_HOST``/``CLAMAV_PORT``.
Development and tests run one of their own (infra/dev/clamav.sh) whose only signature is the
EICAR test file's; production runs Debian's clamav-daemon with freshclam (README).

Log lines name the partnership's schema and the signature, never the file, its name or its
uploader.
"""

from __future__ import annotations

import io
import logging
import socket

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket, CommunicationError
from django.conf import settings
from django.db import connection

from concord.errors import ScannerUnavailable

logger = logging.getLogger(__name__)

# ClamAV marks signatures loaded from a database it did not sign (ours: infra/clamav/) so.
_UNOFFICIAL = ".UNOFFICIAL"


class _UnixSocket(ClamdUnixSocket):
    """clamav-client's unix socket with the timeout set before connecting (0.7.2 sets it after,
    so a clamd whose queue is full would hold the upload's thread for ever)."""

    def _init_socket(self) -> None:
        try:
            self.clamd_socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.clamd_socket.settimeout(self.timeout)
            self.clamd_socket.connect(self.unix_socket)
        except OSError as err:
            raise CommunicationError(self._error_message(err)) from err


def _client() -> ClamdUnixSocket | ClamdNetworkSocket | None:
    timeout = float(settings.CLAMAV_TIMEOUT_SECONDS)
    if settings.CLAMAV_SOCKET:
        return _UnixSocket(path=settings.CLAMAV_SOCKET, timeout=timeout)
    if settings.CLAMAV_HOST:
        return ClamdNetworkSocket(host=settings.CLAMAV_HOST, port=int(settings.CLAMAV_PORT), timeout=timeout)
    return None


def scan(data: bytes) -> str | None:
    """The name of the malware clamd finds in ``data``, or None when it finds none.

    ``ScannerUnavailable`` when clamd cannot give a verdict (see the module docstring).
    """
    client = _client()
    schema = connection.schema_name
    if client is None:
        logger.error("upload refused: no malware scanner configured (CLAMAV_SOCKET or CLAMAV_HOST); schema %s", schema)
        raise ScannerUnavailable()
    try:
        # clamav-client wraps connection errors, but a send that fails or times out midway is a
        # plain OSError (socket.timeout is one): either way there is no verdict.
        answer = client.instream(io.BytesIO(data))
    except (ClamdError, OSError) as exc:
        logger.warning("upload refused: the malware scanner gave no verdict (%s); schema %s", type(exc).__name__,
                       schema)  # fmt: skip
        raise ScannerUnavailable() from exc
    status, found = answer.get("stream", (None, None))
    if status == "OK":
        return None
    if status == "FOUND" and found:
        name = found.removesuffix(_UNOFFICIAL)
        logger.warning("upload refused: malware found (%s); schema %s", name, schema)
        return name
    logger.warning("upload refused: the malware scanner answered %r; schema %s", status, schema)
    raise ScannerUnavailable()
