"""The tests' own ClamAV daemon (clamd) on a unix socket, started once per session.

Registered for every test by ``pytest_plugins`` in tests/conftest.py. Every upload is scanned
(tenant_apps.documents.scanning) and refused when no scanner answers, so the session starts
clamd before any test runs (``clamd_server``, autouse) and points ``CLAMAV_SOCKET`` at it: in
the settings of this process and in the environment that servers started by tests inherit
(``project_env``). Its configuration comes from infra/dev/clamav.sh (as ``make run``'s does),
in a directory of the session's own, so a test may stop it without touching anyone else's:

    def test_scanner_down(clamd_server):
        clamd_server.stop()                  # a real outage: the socket is gone
        ...
        clamd_server.start()                 # always, in a finally

The only signature is the EICAR test file's (infra/clamav/). ``eicar()`` builds that file from
two halves, so that no file of the repository is one that scanners flag.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def eicar() -> bytes:
    """The EICAR anti-virus test file (68 bytes), which every scanner reports and which harms nothing."""
    first = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$"
    second = "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*"
    return (first + second).encode("ascii")


class ClamdServer:
    """``clamd`` in the foreground, configured by infra/dev/clamav.sh in ``directory``."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.socket_path = str(directory / "clamd.sock")
        self.process: subprocess.Popen | None = None
        result = subprocess.run(["bash", str(REPO / "infra" / "dev" / "clamav.sh"), str(directory)],
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"infra/dev/clamav.sh failed: {result.stderr[-2000:]}")
        self.clamd = result.stdout.strip().splitlines()[-1]

    def start(self, timeout: float = 30) -> None:
        if self.process is not None:
            return
        self.process = subprocess.Popen(
            [self.clamd, f"--config-file={self.directory / 'clamd.conf'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.directory / "clamd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"clamd exited: {self.process.stderr.read().decode()[-2000:]} {log}")
            if self.answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("clamd did not start")

    def answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(1)
                conn.connect(self.socket_path)
                conn.sendall(b"nPING\n")
                return conn.recv(16).strip() == b"PONG"
        except OSError:
            return False

    @contextlib.contextmanager
    def frozen(self):
        """clamd stopped with SIGSTOP for the block (connections are accepted, nothing answers);
        always continued on the way out."""
        assert self.process is not None and self.process.poll() is None, "clamd is not running"
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


@pytest.fixture(scope="session", autouse=True)
def clamd_server():
    from django.conf import settings

    directory = Path(tempfile.mkdtemp(prefix="concord-clamd-"))  # short: a socket path is at most 107 bytes
    server = ClamdServer(directory)
    server.start()
    previous = os.environ.get("CLAMAV_SOCKET")
    os.environ["CLAMAV_SOCKET"] = server.socket_path
    settings.CLAMAV_SOCKET = server.socket_path
    try:
        yield server
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("CLAMAV_SOCKET", None)
        else:
            os.environ["CLAMAV_SOCKET"] = previous
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def clamd(clamd_server):
    """The session's clamd, running for every test (started again if an earlier test stopped it)."""
    if clamd_server.process is None or clamd_server.process.poll() is not None:
        clamd_server.process = None
        clamd_server.start()
    return clamd_server
