"""The job worker and e-mail under database faults, for real (issue 8, points 9 and 16).

The worker (``manage.py jobs_worker``, as ``make run`` and the systemd unit run it) is a
subprocess talking to the private PostgreSQL cluster (tests/pg_cluster.py) and to a real
SMTP server on loopback (tests/smtp.py). The cluster is restarted, stopped, made
read-only, stripped of its backends, or given a statement timeout under a lock, and
the tests check that the worker process lives on and e-mail queued after the fault
arrives; and, for point 16, that an e-mail whose sender lost its database during the
SMTP exchange arrives once and its outbox row says so (README: "What is guaranteed").

E-mail is queued through the real code (``mail_send_later`` in a ``manage.py shell``
subprocess against the cluster); outbox rows are read straight from the cluster.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid

import psycopg
import pytest

from tests.conftest import REPO, project_env

WORKER = ["jobs_worker", "--queues", "mail,maintenance"]
PASSWORD = "not-a-real-pw-7q"  # in the worker's DATABASE_URL (trust auth ignores it): must never be logged
OUTAGE_LINE = "job worker: database unavailable"
BACK_LINE = "job worker: database back"


class Worker:
    """``manage.py jobs_worker`` as a subprocess, its output in a file."""

    def __init__(self, env: dict[str, str], log_path):
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), *WORKER],
            env=env, cwd=REPO, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def worker_env(private_pg, smtp_server, **extra: str) -> dict[str, str]:
    url = private_pg.url().replace("postgres://postgres@", f"postgres://postgres:{PASSWORD}@")
    return project_env(
        DATABASE_URL=url,
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
        JOBS_HEARTBEAT_SECONDS="1",
        JOBS_STALLED_AFTER_SECONDS="2",
        JOBS_STALLED_CHECK_CRON="* * * * * *",  # every second
        # Reconnect after 1 s, then 2 s (production: 1, 2, 4 ... 20 s); the outage is over once a run
        # has lasted 1 s (production: 5 s). Every run during a fault fails within a heartbeat (1 s).
        JOBS_RECONNECT_MAX_SECONDS="2",
        JOBS_RECONNECT_STABLE_SECONDS="1",
        LOG_LEVEL="INFO",
        **extra,
    )


# One ``manage.py shell`` per module queues every e-mail (starting Django for each cost half a
# second): a line of JSON in, ``mail_send_later`` in its own transaction on a fresh connection,
# closed afterwards, so that it holds no connection through the faults.
QUEUER = """
import json, sys, traceback
from django.db import connection, transaction
from django_tenants.utils import schema_context
from tenant_apps.outbox.services import mail_send_later
for line in sys.stdin:
    asked = json.loads(line)
    try:
        with schema_context(asked["schema"]), transaction.atomic():
            mail_send_later(to=[asked["to"]], subject=asked["subject"], body="Sent through a fault test.")
        print("queuer: queued", flush=True)
    except Exception:
        print("queuer:", json.dumps(traceback.format_exc()), flush=True)
    finally:
        connection.close()
"""


class MailQueuer:
    """The module's ``manage.py shell`` running ``QUEUER`` against the private cluster."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "shell", "--no-imports", "-v", "0", "-c", QUEUER],
            env=env, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.startswith("queuer: "):
                self.answers.put(line.removeprefix("queuer: ").strip())
        self.answers.put("exited")

    def queue(self, **asked: str) -> None:
        assert self.process.poll() is None, self.process.stderr.read()[-2000:]
        self.process.stdin.write(json.dumps(asked) + "\n")
        self.process.stdin.flush()
        answer = self.answers.get(timeout=120)
        assert answer != "exited", self.process.stderr.read()[-2000:]
        assert answer == "queued", json.loads(answer)

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_queuers: dict[str, MailQueuer] = {}


@pytest.fixture(scope="module", autouse=True)
def _stop_mail_queuers():
    yield
    while _queuers:
        _queuers.popitem()[1].stop()


def queue_mail(private_pg, subject: str, *, to: str = "bob@suffolk.test", schema: str = "suffolk") -> None:
    """``mail_send_later`` in ``schema``, committed, through the project's own code (a subprocess)."""
    if private_pg.url() not in _queuers:
        _queuers[private_pg.url()] = MailQueuer(project_env(**private_pg.env()))
    _queuers[private_pg.url()].queue(schema=schema, to=to, subject=subject)


def outbox_row(private_pg, subject: str, schema: str = "suffolk") -> dict | None:
    with psycopg.connect(private_pg.url(), autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute(
            f'SELECT status, attempts, message_id, sent_at, last_error FROM "{schema}".outbox_outboundemail '
            "WHERE subject = %s",
            [subject],
        ).fetchone()


def wait_recorded(private_pg, subject: str, timeout: float = 30) -> dict:
    """The outbox row once its send is recorded (the worker records it after the server's 250)."""
    deadline = time.monotonic() + timeout
    row = outbox_row(private_pg, subject)
    while (row is None or row["status"] in ("queued", "sending")) and time.monotonic() < deadline:
        time.sleep(0.1)
        row = outbox_row(private_pg, subject)
    return row


def received(smtp_server, subject: str) -> list:
    with smtp_server.lock:
        return [message for message in smtp_server.messages if message["Subject"] == subject]


def wait_received(smtp_server, subject: str, worker: Worker, timeout: float) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = received(smtp_server, subject)
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{subject!r} not delivered within {timeout}s; worker alive: {worker.alive()}\n{worker.log}")


def wait_logged(worker: Worker, text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while text not in worker.log and time.monotonic() < deadline:
        time.sleep(0.2)
    assert text in worker.log, worker.log
    return worker.log


def subject(label: str) -> str:
    return f"[worker-faults] {label} {uuid.uuid4().hex[:8]}"


@pytest.fixture
def started(private_pg, smtp_server, tmp_path):
    """A worker against the private cluster, shown to deliver before the fault."""
    worker = Worker(worker_env(private_pg, smtp_server), tmp_path / "worker.log")
    try:
        before = subject("before the fault")
        queue_mail(private_pg, before)
        wait_received(smtp_server, before, worker, timeout=60)
        yield worker
    finally:
        worker.stop()


# --- Point 9: the worker survives, reconnects, and sends what was queued --------------------


def restart(pg) -> None:
    pg.restart()


def stop_for_a_while(pg) -> None:
    pg.stop()
    time.sleep(3)  # longer than a heartbeat (1 s) and the first reconnect (after 1 s)
    pg.start()


def terminate_backends(pg) -> None:
    assert pg.terminate_backends() > 0


def read_only_for_a_while(pg) -> None:
    with pg.read_only():
        time.sleep(3)  # as stop_for_a_while


def statement_timeout_under_a_lock(pg) -> None:
    """Every statement limited to 200 ms while the job table is locked for 3 s: the worker's
    job fetch and the periodic deferrer's insert (every second) wait on the lock and are cancelled."""
    with psycopg.connect(pg.url("postgres"), autocommit=True) as admin:
        admin.execute("ALTER SYSTEM SET statement_timeout = '200ms'")
        admin.execute("SELECT pg_reload_conf()")
    try:
        time.sleep(0.3)
        with psycopg.connect(pg.url()) as locker:
            locker.execute("SET statement_timeout = 0")
            locker.execute("LOCK TABLE public.procrastinate_jobs IN ACCESS EXCLUSIVE MODE")
            time.sleep(3)
            locker.rollback()
    finally:
        with psycopg.connect(pg.url("postgres"), autocommit=True) as admin:
            admin.execute("ALTER SYSTEM RESET statement_timeout")
            admin.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)


@pytest.mark.parametrize(
    "fault",
    [restart, stop_for_a_while, terminate_backends, read_only_for_a_while, statement_timeout_under_a_lock],
)
def test_the_worker_lives_through_a_database_fault_and_sends_what_is_queued_after_it(
    fault, private_pg, smtp_server, started
):
    worker = started
    fault(private_pg)
    time.sleep(1)
    assert worker.alive(), worker.log  # procrastinate's own worker exits here ("stopping worker")

    after = subject("after the fault")
    queue_mail(private_pg, after)
    [message] = wait_received(smtp_server, after, worker, timeout=45)
    row = wait_recorded(private_pg, after)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    assert message["Message-ID"] == row["message_id"]
    assert worker.alive(), worker.log

    log = worker.log
    if fault is not terminate_backends:  # a terminated backend is an error and a reconnect, no outage
        log = wait_logged(worker, BACK_LINE)
        assert log.count(OUTAGE_LINE) == 1, log  # one line per outage, one when it is over
        assert log.count(BACK_LINE) == 1, log
    assert log.count(OUTAGE_LINE) <= 1, log
    assert PASSWORD not in log
    assert "Sent through a fault test." not in log  # bodies are never logged
    # Nothing but a job that failed in the outage (its own record) logs an error: no side task
    # traceback, no "stopping worker", no unhandled task error.
    errors = [line for line in log.splitlines() if " ERROR " in line and "ended with status: Error" not in line]
    assert errors == [], log
    assert "stopping worker" not in log and "never retrieved" not in log, log
    assert worker.stop() == 0, log  # SIGTERM still stops it cleanly


def test_a_worker_started_while_the_database_is_down_waits_for_it(private_pg, smtp_server, tmp_path):
    private_pg.stop()
    worker = Worker(worker_env(private_pg, smtp_server), tmp_path / "worker.log")
    try:
        time.sleep(4)  # several reconnects refused (after 1 s, 2 s, 2 s)
        assert worker.alive(), worker.log
        private_pg.start()
        queued = subject("queued once the database is back")
        queue_mail(private_pg, queued)
        wait_received(smtp_server, queued, worker, timeout=60)
        log = wait_logged(worker, BACK_LINE)
        assert log.count(OUTAGE_LINE) == 1, log
        assert "Connection refused" in log.split(OUTAGE_LINE, 1)[1].splitlines()[0], log  # says why
        assert log.count(BACK_LINE) == 1, log
        assert PASSWORD not in log
    finally:
        private_pg.start()
        assert worker.stop() == 0, worker.log


def test_the_worker_stops_on_sigterm_during_an_outage(private_pg, smtp_server, started):
    private_pg.stop()
    time.sleep(3)
    assert started.alive(), started.log
    began = time.monotonic()
    assert started.stop() == 0, started.log
    assert time.monotonic() - began < 25


# --- Point 16: the database lost during the SMTP exchange: one copy, and the row says so -------


def send_through_a_fault(private_pg, smtp_server, worker: Worker, fault, *, hold: float) -> tuple[list, dict]:
    """Queue an e-mail, let the SMTP server hold its DATA for ``hold`` seconds, apply ``fault``
    while it does (the message is then accepted: the client is still connected); return the
    copies received and the outbox row once its outcome is recorded."""
    label = subject("database lost during DATA")
    smtp_server.in_data.clear()
    smtp_server.delay = hold
    queue_mail(private_pg, label)
    assert smtp_server.in_data.wait(60), worker.log
    row = outbox_row(private_pg, label)
    assert (row["status"], row["attempts"]) == ("sending", 1), row  # recorded before SMTP
    fault(private_pg)
    wait_received(smtp_server, label, worker, timeout=30)
    smtp_server.delay = 0
    row = wait_recorded(private_pg, label, timeout=60)
    time.sleep(3)  # let a second copy arrive if one is coming
    return received(smtp_server, label), row


@pytest.mark.parametrize("pool", ["0", "1"], ids=["persistent-connection", "django-pool"])  # production: the pool
def test_backends_terminated_while_the_server_holds_data_the_mail_arrives_once(pool, private_pg, smtp_server, tmp_path):
    started = Worker(worker_env(private_pg, smtp_server, DATABASE_POOL=pool), tmp_path / "worker.log")
    try:
        before = subject("before the fault")
        queue_mail(private_pg, before)
        wait_received(smtp_server, before, started, timeout=60)
        copies, row = send_through_a_fault(private_pg, smtp_server, started, terminate_backends, hold=2)
        assert started.alive(), started.log
    finally:
        started.stop()
    assert len(copies) == 1, started.log  # the old code sent it again 15 s later
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, ""), row
    assert row["sent_at"] is not None
    assert copies[0]["Message-ID"] == row["message_id"]
    assert "retrying on a new connection" in started.log


def test_the_database_down_while_the_server_holds_data_the_mail_arrives_once(private_pg, smtp_server, started):
    def down_past_the_reply(pg) -> None:
        pg.stop()
        time.sleep(4)  # the server replies 250 meanwhile; the worker cannot record it yet
        pg.start()

    copies, row = send_through_a_fault(private_pg, smtp_server, started, down_past_the_reply, hold=2)
    assert len(copies) == 1, started.log
    assert (row["status"], row["attempts"]) == ("sent", 1), row
    assert copies[0]["Message-ID"] == row["message_id"]
    assert started.alive(), started.log


# --- make run's supervisor: a worker that exits anyway is started again ------------------------


def children(pid: int) -> list[int]:
    """The worker processes a supervisor runs (not its ``sleep`` between two of them)."""
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if line.split() and line.split()[1] != "sleep"]


def registered_workers(private_pg) -> int:
    """The newest procrastinate worker row's id: a worker registers once it has started up."""
    with psycopg.connect(private_pg.url(), autocommit=True) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM public.procrastinate_workers").fetchone()[0]


def test_make_runs_supervisor_restarts_a_worker_that_exits_and_stops_it_on_term(private_pg, smtp_server, tmp_path):
    """infra/dev/keep-running.sh, as infra/dev/run.sh uses it, around the real worker."""
    log_path = tmp_path / "supervised.log"
    last_worker = registered_workers(private_pg)
    supervisor = subprocess.Popen(
        [str(REPO / "infra/dev/keep-running.sh"), "The job worker", "1", sys.executable, str(REPO / "manage.py"),
         *WORKER],
        env=worker_env(private_pg, smtp_server), cwd=REPO, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not children(supervisor.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        [first] = children(supervisor.pid)
        deadline = time.monotonic() + 30
        while registered_workers(private_pg) == last_worker and time.monotonic() < deadline:
            time.sleep(0.1)
        assert registered_workers(private_pg) > last_worker, log_path.read_text()  # started up: running jobs
        subprocess.run(["kill", "-KILL", str(first)], check=True)  # the worker dies, whatever the reason
        deadline = time.monotonic() + 20
        while children(supervisor.pid) in ([], [first]) and time.monotonic() < deadline:
            time.sleep(0.1)
        [second] = children(supervisor.pid)
        assert second != first
        assert "The job worker exited (status 137); starting it again in 1 s." in log_path.read_text()

        queued = subject("after the supervisor restarted the worker")
        queue_mail(private_pg, queued)
        deadline = time.monotonic() + 60
        while not received(smtp_server, queued) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert received(smtp_server, queued), log_path.read_text()
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            code = supervisor.wait(timeout=30)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            raise
    assert code == 0
    time.sleep(0.5)
    assert subprocess.run(["ps", "-p", str(second)], capture_output=True).returncode != 0  # TERM reached the worker
    assert "job worker: stopped" in log_path.read_text()
