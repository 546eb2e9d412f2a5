"""The project under a real gunicorn, for the tests that need a server: the browser tests and the
concurrency tests (parallel clients against real worker processes and threads)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def gunicorn_serving(launcher: list[str], *, env: dict, port: int, workers: int = 1, threads: int = 4):
    """The project under gunicorn (``workers`` processes of ``threads`` threads) on
    127.0.0.1:``port``, started with ``python <launcher...>`` (``["-m", "gunicorn"]``, or a ``-c``
    script that sets up first) in the repository; returns once the port answers, stops it afterwards."""
    process = subprocess.Popen(
        [sys.executable, *launcher, "concord.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"gunicorn did not start:\n{process.stdout.read().decode()}")
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
