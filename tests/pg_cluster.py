"""A PostgreSQL cluster of the tests' own, for fault tests that must break the database for real.

The suite's database is shared by every test; a fault test instead gets a private
cluster (``initdb`` in a temporary folder, ``pg_ctl`` on a free loopback port) holding
a copy of the test database as committed after the session set-up (public, the
template, Suffolk and Norfolk with the cast and their authenticators). It can then be
stopped, restarted, made read-only or have its backends terminated, while a gunicorn
``Server`` or a job worker started with ``cluster.env()`` talks to it.

    def test_something(private_pg):
        env = project_env(**private_pg.env())   # DATABASE_URL points at the private cluster
        ...
        private_pg.restart()
        private_pg.stop(); private_pg.start()
        with private_pg.read_only():
            ...
        private_pg.terminate_backends()

The cluster starts once per session (``private_pg_cluster``); the function fixture
``private_pg`` puts it back as it was (running, read-write) after each test, so one
test's fault never reaches the next. initdb refuses to run as root, so as root the
cluster runs as the system user ``concordpg`` (created if missing, as
``infra/dev/db.sh`` does).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import psycopg.sql
import pytest

DATABASE = "concord"


def pg_binary(name: str) -> str:
    """A PostgreSQL server binary (initdb, pg_ctl...): on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        pytest.skip(f"{name} is not installed (apt-get install postgresql)")
    return str(candidates[-1])


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, which this machine's init may never reap, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateCluster:
    """One PostgreSQL cluster on 127.0.0.1:<port>, data in a temporary folder."""

    def __init__(self):
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="concord-pg-"))
        self.data = self.root / "data"
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            if subprocess.run(["id", "concordpg"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "concordpg"], check=True)
            self.run_as = ["runuser", "-u", "concordpg", "--"]
            shutil.chown(self.root, "concordpg")
        self._run([pg_binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.data}'\n"
                "max_locks_per_transaction = 512\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 100\n"
                # A connection accepted while the server shuts down gets a backend that is never
                # signalled: it waits for the client's startup packet, and the shutdown waits for it,
                # up to this timeout (60 s by default). A client that reconnects in a loop (the job
                # worker, under load) left `pg_ctl stop` hanging past its 20 s and the server killed.
                "authentication_timeout = 3s\n"
            )
        self.read_only_set = False  # whether default_transaction_read_only is on (set_read_only)
        self.start()

    # --- Life ------------------------------------------------------------------

    def _run(self, argv: list[str], timeout: float = 60) -> None:
        result = subprocess.run([*self.run_as, *argv], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {(result.stderr or result.stdout)[-2000:]}")

    def _pg_ctl(self, *args: str) -> None:
        self._run([pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", *args])

    @property
    def running(self) -> bool:
        pid = self.data / "postmaster.pid"
        return pid.exists() and self.answers()

    def answers(self, timeout: float = 1) -> bool:
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=max(1, int(timeout))) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def start(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: clients are disconnected; ``immediate``: a crash)."""
        if not (self.data / "postmaster.pid").exists():
            return
        try:
            self._pg_ctl("stop", "-m", mode, "-t", "20")
        except (RuntimeError, subprocess.TimeoutExpired):
            # A fast stop waits for backends to exit; under load one can linger. The test
            # wanted the server gone: an immediate stop is a crash, which recovery handles.
            if mode != "immediate":
                try:
                    self._pg_ctl("stop", "-m", "immediate", "-t", "20")
                    return
                except (RuntimeError, subprocess.TimeoutExpired):
                    pass
            self._kill_postmaster()

    def _kill_postmaster(self) -> None:
        """Last resort when pg_ctl cannot stop the server (seen rarely under load): say what the
        processes were doing, SIGKILL the postmaster and its children, clear the stale pid file."""
        import signal
        import sys

        pidfile = self.data / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        ps = subprocess.run(["ps", "-o", "pid,ppid,stat,wchan:20,etime,cmd", "--ppid", str(pid), "-p", str(pid)],
                            capture_output=True, text=True)  # fmt: skip
        log = (self.root / "server.log").read_text(errors="replace")[-3000:]
        print(f"pg_cluster: pg_ctl could not stop {pid}; killing it.\n{ps.stdout}\n{log}", file=sys.stderr)
        children = [int(line.split()[0]) for line in ps.stdout.splitlines()[1:] if line.split()]
        for victim in [pid, *children]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(victim) for victim in [pid, *children]):
            time.sleep(0.1)
        pidfile.unlink(missing_ok=True)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # --- Faults ------------------------------------------------------------------

    def set_read_only(self, on: bool) -> None:
        """Every new transaction read-only (as on a standby, or a full disk turned read-only), or back."""
        value = "on" if on else "off"
        self.read_only_set = self.read_only_set or on  # before: a failure half-way is still undone
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"ALTER SYSTEM SET default_transaction_read_only = {value}")
            conn.execute("SELECT pg_reload_conf()")
        self.read_only_set = on
        time.sleep(0.2)  # backends take the reloaded setting at their next command

    @contextlib.contextmanager
    def read_only(self):
        self.set_read_only(True)
        try:
            yield self
        finally:
            self.set_read_only(False)

    def terminate_backends(self, database: str = DATABASE) -> int:
        """``pg_terminate_backend`` every other connection to ``database``; returns how many."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [database],
            ).fetchall()
        return len(rows)

    # --- Addresses ------------------------------------------------------------------

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def env(self, database: str = DATABASE) -> dict[str, str]:
        """Environment for a subprocess of the project pointed at this cluster."""
        return {"DATABASE_URL": self.url(database)}

    def load_copy_of(self, source_url: str, database: str = DATABASE) -> None:
        """Copy a database (as committed now) into this cluster under ``database``, with the
        roles its grants and policies name (``concord.db_roles``: roles are cluster-wide)."""
        with psycopg.connect(source_url, autocommit=True) as source:
            roles = [row[0] for row in source.execute(
                "SELECT rolname FROM pg_roles WHERE NOT rolcanlogin AND rolname !~ '^pg_' "
                "AND rolname <> 'postgres'").fetchall()]  # fmt: skip
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
            for role in roles:
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                    conn.execute(
                        psycopg.sql.SQL("CREATE ROLE {} NOLOGIN NOINHERIT").format(psycopg.sql.Identifier(role))
                    )
        dump = subprocess.run(
            [pg_binary("pg_dump"), "--no-owner", "-Fc", source_url],
            capture_output=True,
            timeout=300,
        )
        if dump.returncode != 0:
            raise RuntimeError(f"pg_dump failed: {dump.stderr.decode()[-2000:]}")
        restore = subprocess.run(
            [pg_binary("pg_restore"), "--no-owner", "-d", self.url(database)],
            input=dump.stdout,
            capture_output=True,
            timeout=300,
        )
        if restore.returncode != 0:
            raise RuntimeError(f"pg_restore failed: {restore.stderr.decode()[-2000:]}")


@pytest.fixture(scope="session")
def private_pg_cluster(django_db_setup, django_db_blocker):
    """The session's private cluster, holding a copy of the committed test database."""
    from tests.conftest import subprocess_database_url

    with django_db_blocker.unblock():
        source = subprocess_database_url()
    cluster = PrivateCluster()
    try:
        cluster.load_copy_of(source)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def private_pg(private_pg_cluster, db):
    """The private cluster, running and read-write before and after the test whatever it did.

    (``db`` is requested so that pytest-django sets up the suite's database even when only
    fault tests are selected: the cluster is a copy of it.)"""
    cluster = private_pg_cluster
    cluster.start()
    if cluster.read_only_set:
        cluster.set_read_only(False)
    yield cluster
    cluster.start()
    if cluster.read_only_set:  # only set_read_only (read_only) turns it on
        cluster.set_read_only(False)
