"""Background jobs (procrastinate) and e-mail through them, against real PostgreSQL and SMTP.

Workers read committed rows on their own connections, so these tests use
``committed_db`` and delete what they create (jobs, workers, outbox rows).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context, schema_exists

from concord import jobs
from concord.db_roles import owner_mode
from tenant_apps.outbox import mail
from tenant_apps.outbox.jobs import send_email
from tenant_apps.outbox.services import mail_send_later
from tests.conftest import REPO, project_env

MARK = "[jobs-test]"
CALLS: list[tuple[str, str, str]] = []  # (schema_name argument, connection's schema, note)


@jobs.partnership_task(queue="test-jobs")
def record_schema(*, schema_name: str, note: str) -> None:
    """A test-only job (registered in this process only): where did it run?"""
    CALLS.append((schema_name, connection.schema_name, note))


class Rollback(Exception):
    pass


def run_jobs(*queues: str) -> None:
    """Run a worker in this process until no job is due, as `manage.py procrastinate worker` would."""
    from procrastinate.contrib.django import app

    connection.set_schema_to_public()
    with app.replace_connector(app.connector.get_worker_connector()):
        app.run_worker(queues=list(queues) or None, wait=False, install_signal_handlers=False, listen_notify=False)


def query(sql: str, params=()) -> list[tuple]:
    """The test's look at the database, as the owner (it reads the job queue from any schema)."""
    with owner_mode(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def outbox(schema: str):
    from tenant_apps.outbox.models import OutboundEmail

    with schema_context(schema):
        return list(OutboundEmail.objects.filter(subject__startswith=MARK))


def partnership(slug: str):
    from tenants.models import Partnership

    connection.set_schema_to_public()
    return Partnership.objects.get(schema_name=slug)


@pytest.fixture
def queue(committed_db):
    """Committed database access; removes the jobs, workers and e-mails the test made."""
    connection.set_schema_to_public()
    first_job = query("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")[0][0]
    first_worker = query("SELECT coalesce(max(id), 0) FROM procrastinate_workers")[0][0]
    CALLS.clear()
    yield first_job
    connection.set_schema_to_public()
    query("DELETE FROM procrastinate_periodic_defers WHERE job_id > %s", [first_job])
    query("DELETE FROM procrastinate_jobs WHERE id > %s", [first_job])
    query("DELETE FROM procrastinate_workers WHERE id > %s", [first_worker])
    from tenant_apps.outbox.models import OutboundEmail

    for schema in ("public", "suffolk", "norfolk"):
        with schema_context(schema):
            OutboundEmail.objects.filter(subject__startswith=MARK).delete()


def new_jobs(first_job: int) -> list[tuple]:
    """The test's jobs (not the periodic maintenance ones): id, task, queue, args, status, attempts, scheduled_at."""
    rows = query(
        "SELECT id, task_name, queue_name, args, status::text, attempts, scheduled_at "
        "FROM public.procrastinate_jobs WHERE id > %s AND queue_name <> %s ORDER BY id",
        [first_job, jobs.MAINTENANCE_QUEUE],
    )
    return [(row[0], row[1], row[2], json.loads(row[3]), *row[4:]) for row in rows]  # Django leaves jsonb as text


# --- The retry schedule ------------------------------------------------------------------


def test_mail_retry_backs_off_exponentially_over_about_an_hour(settings):
    retry = mail.mail_retry
    waits = [retry.wait_seconds(failed_attempts=n) for n in range(1, settings.MAIL_RETRY["max_attempts"])]
    assert settings.MAIL_RETRY["max_attempts"] == 10
    assert all(later > earlier for earlier, later in zip(waits, waits[1:], strict=False))
    assert 45 * 60 <= sum(waits) <= 90 * 60
    assert retry.wait_seconds(failed_attempts=10) is None  # ten tries in all


# --- (a) A rolled-back transaction leaves no job ---------------------------------------


def test_a_job_deferred_in_a_rolled_back_transaction_never_exists_nor_runs(queue, smtp_server):
    connection.set_tenant(partnership("suffolk"))
    with pytest.raises(Rollback), transaction.atomic():
        mail_send_later(to=["bob@suffolk.test"], subject=f"{MARK} rolled back", body="never")
        jobs.defer_for_current_partnership(record_schema, note="rolled back")
        assert len(new_jobs(queue)) == 2  # inside the transaction they exist
        raise Rollback
    connection.set_schema_to_public()
    assert new_jobs(queue) == []
    assert outbox("suffolk") == []

    run_jobs("mail", "test-jobs")
    assert CALLS == []
    time.sleep(0.2)
    assert smtp_server.messages == []


# --- (b) From a partnership request to the SMTP server ------------------------------------


def test_mail_queued_in_a_suffolk_request_is_sent_from_suffolks_schema(queue, smtp_server):
    connection.set_tenant(partnership("suffolk"))  # what the routing middleware does per request
    assert query("SHOW search_path")[0][0].split(",")[0].strip().strip('"') == "suffolk"
    with transaction.atomic():
        mail_send_later(
            to=["bob@suffolk.test"],
            subject=f"{MARK} Case 42 was assigned to you",
            body="Open Concord to see the case.",
            html_body="<p>Open Concord to see the case.</p>",
        )

    # The job went to public's queue although the connection was on Suffolk.
    [(job_id, task_name, queue_name, args, status, attempts, _)] = new_jobs(queue)
    assert (task_name, queue_name, status) == ("concord.mail.send_email", "mail", "todo")
    assert query("SELECT to_regclass('suffolk.procrastinate_jobs')")[0][0] is None
    assert query("SELECT count(*) FROM public.procrastinate_jobs WHERE id = %s", [job_id])[0][0] == 1
    # The job carries the schema and an opaque id: no address, subject or body.
    [email] = outbox("suffolk")
    assert args == {"schema_name": "suffolk", "email_id": str(email.id)}
    assert outbox("norfolk") == [] and outbox("public") == []

    run_jobs("mail")

    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == f"{MARK} Case 42 was assigned to you"
    assert message["To"] == "bob@suffolk.test"
    assert message["Message-ID"] == email.message_id
    assert smtp_server.envelopes[0][1] == ["bob@suffolk.test"]
    assert message.get_body(("plain",)).get_content().strip() == "Open Concord to see the case."
    assert message.get_body(("html",)).get_content().strip() == "<p>Open Concord to see the case.</p>"
    [sent] = outbox("suffolk")
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert sent.sent_at is not None
    assert outbox("norfolk") == []
    assert new_jobs(queue) == []  # succeeded, then deleted (PROCRASTINATE_WORKER_DEFAULTS)


def test_a_send_queued_under_the_old_task_name_is_run_and_the_mail_goes_out(queue, smtp_server):
    """The queue stores jobs by task name: jobs queued while ``send_email`` lived in
    ``concord.mail`` still run now that it lives in ``tenant_apps.outbox.jobs``."""
    from procrastinate import tasks
    from procrastinate.contrib.django import app

    from tenant_apps.outbox.models import OutboundEmail

    # What the old ``concord.mail.mail_send_later`` committed: the row, and a job by that name.
    with schema_context("suffolk"), transaction.atomic():
        email = OutboundEmail.objects.create(
            message_id="<old-name-job@localhost>", to=["bob@suffolk.test"], subject=f"{MARK} Queued before the move",
            body="Sent by the new code.",
        )  # fmt: skip
        tasks.configure_task(name="concord.mail.send_email", job_manager=app.job_manager, queue="mail").defer(
            schema_name="suffolk", email_id=str(email.id)
        )
    [(_, task_name, _, args, status, _, _)] = new_jobs(queue)
    assert (task_name, args, status) == (
        "concord.mail.send_email",
        {"schema_name": "suffolk", "email_id": str(email.id)},
        "todo",
    )

    run_jobs("mail")

    [message] = smtp_server.wait_for(1)
    assert (message["Subject"], message["Message-ID"]) == (f"{MARK} Queued before the move", "<old-name-job@localhost>")
    [sent] = outbox("suffolk")
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert new_jobs(queue) == []


def test_mail_send_later_refuses_bad_input(db):
    for bad in ({"to": "bob@suffolk.test"}, {"to": []}, {"to": ["not an address"]}, {"subject": "two\nlines"}):
        kwargs = {"to": ["bob@suffolk.test"], "subject": f"{MARK} x", "body": "x"} | bad
        with pytest.raises(ValueError):
            mail_send_later(**kwargs)


# --- Every job inside its schema -------------------------------------------------------------


def test_jobs_run_inside_the_schema_they_carry_and_a_bad_schema_is_refused(queue, caplog):
    for slug in ("suffolk", "norfolk"):
        connection.set_tenant(partnership(slug))
        jobs.defer_for_current_partnership(record_schema, note=slug)
    connection.set_schema_to_public()
    jobs.defer_for_schema(record_schema, schema_name="public", note="platform")
    # Deferred behind the helpers' backs: refused when they run, never retried.
    record_schema.defer(schema_name="atlantis", note="unknown")
    record_schema.defer(note="no schema")

    with caplog.at_level(logging.ERROR, logger="concord.jobs"):
        run_jobs("test-jobs")

    assert sorted(CALLS) == [
        ("norfolk", "norfolk", "norfolk"),
        ("public", "public", "platform"),
        ("suffolk", "suffolk", "suffolk"),
    ]
    failed = [
        (args, status, attempts) for _, _, _, args, status, attempts, _ in new_jobs(queue) if status != "succeeded"
    ]
    assert failed == [
        ({"schema_name": "atlantis", "note": "unknown"}, "failed", 1),  # tried once, never retried
        ({"note": "no schema"}, "failed", 1),
    ]
    assert "unknown schema 'atlantis'" in caplog.text


def test_deferring_needs_a_partnership_or_an_explicit_schema(db):
    connection.set_schema_to_public()
    with pytest.raises(jobs.NoPartnershipError):
        jobs.defer_for_current_partnership(record_schema, note="x")
    with pytest.raises(jobs.UnknownSchemaError):
        jobs.defer_for_schema(record_schema, schema_name="atlantis", note="x")
    with pytest.raises(jobs.UnknownSchemaError):
        jobs.defer_for_schema(record_schema, schema_name="", note="x")


# --- One job per partnership -------------------------------------------------------------------


def test_a_fan_out_queues_one_job_per_partnership_each_run_inside_its_schema(queue):
    from tenants.models import Partnership

    connection.set_schema_to_public()
    slugs = {
        slug
        for slug in Partnership.objects.exclude(schema_name="public").values_list("schema_name", flat=True)
        if schema_exists(slug)
    }
    assert {"suffolk", "norfolk"} <= slugs
    assert jobs.defer_for_every_partnership(record_schema, lock_prefix="test-fan-out", note="fan-out") == len(slugs)
    # The same again while those wait: each partnership's is already queued (its queueing lock).
    assert jobs.defer_for_every_partnership(record_schema, lock_prefix="test-fan-out", note="fan-out") == 0
    queued = [args for _, _, _, args, _, _, _ in new_jobs(queue)]
    assert sorted(queued, key=lambda args: args["schema_name"]) == [
        {"schema_name": slug, "note": "fan-out"} for slug in sorted(slugs)
    ]

    run_jobs("test-jobs")

    assert sorted(CALLS) == [(slug, slug, "fan-out") for slug in sorted(slugs)]


def test_a_fan_out_counts_suspended_partnerships_public_if_asked_and_skips_one_without_a_schema(db, caplog):
    from tenants.models import Partnership

    connection.set_schema_to_public()
    first_job = query("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")[0][0]
    Partnership.objects.filter(schema_name="norfolk").update(status=Partnership.Status.SUSPENDED)
    Partnership.objects.create(schema_name="ghost", name="A partnership whose schema is gone")

    with caplog.at_level(logging.WARNING, logger="concord.jobs"):
        queued = jobs.defer_for_every_partnership(
            record_schema, lock_prefix="test-fan-out", include_public=True, note="x"
        )

    schemas = [args["schema_name"] for _, _, _, args, _, _, _ in new_jobs(first_job)]
    assert schemas[0] == "public"  # first, then the partnerships
    assert {"suffolk", "norfolk"} <= set(schemas) and "ghost" not in schemas
    assert queued == len(schemas) == len(set(schemas))
    assert "partnership 'ghost' has no schema; skipped" in caplog.text


# --- (c) SMTP down: retried with back-off, then sent exactly once ----------------------------


def test_smtp_down_the_job_is_retried_later_and_the_mail_goes_out_once(queue, smtp_server, settings):
    settings.MAIL_RETRY = {"max_attempts": 5, "first_wait_seconds": 1, "factor": 2}
    smtp_server.stop()
    with schema_context("suffolk"), transaction.atomic():
        mail_send_later(to=["alice@suffolk.test"], subject=f"{MARK} Review due", body="A review is due.")

    started = time.time()
    run_jobs("mail")
    [email] = outbox("suffolk")
    assert (email.status, email.attempts, email.sent_at) == ("queued", 1, None)
    assert "ConnectionRefusedError" in email.last_error
    [(_, _, _, _, status, attempts, scheduled_at)] = new_jobs(queue)
    assert (status, attempts) == ("todo", 1)
    assert scheduled_at.timestamp() >= started + 0.9  # backed off, not retried at once

    run_jobs("mail")  # not due yet: nothing happens
    assert outbox("suffolk")[0].attempts == 1

    smtp_server.start()
    time.sleep(max(0.0, scheduled_at.timestamp() - time.time()) + 0.1)
    run_jobs("mail")
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == f"{MARK} Review due"
    [email] = outbox("suffolk")
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, "")

    # Run the job again (as after a crash between sending and the job's completion): no second e-mail.
    with transaction.atomic():
        send_email(schema_name="suffolk", email_id=str(email.id))
    time.sleep(0.3)
    assert len(smtp_server.messages) == 1


def test_smtp_down_for_good_marks_the_mail_failed(queue, smtp_server, settings):
    settings.MAIL_RETRY = {"max_attempts": 3, "first_wait_seconds": 0, "factor": 1}
    smtp_server.stop()
    with schema_context("norfolk"), transaction.atomic():
        mail_send_later(to=["nina@norfolk.test"], subject=f"{MARK} Never delivered", body="x")
    run_jobs("mail")
    [email] = outbox("norfolk")
    assert (email.status, email.attempts, email.sent_at) == ("failed", 3, None)
    assert "ConnectionRefusedError" in email.last_error
    assert new_jobs(queue) == []  # the job gave up cleanly (and was deleted): nothing left to retry


def test_a_permanent_refusal_marks_the_mail_failed_without_retrying(queue, smtp_server):
    smtp_server.refuse_with = "550 5.7.1 Refused by policy"
    with schema_context("suffolk"), transaction.atomic():
        mail_send_later(to=["bob@suffolk.test"], subject=f"{MARK} Refused", body="x")
    run_jobs("mail")
    [email] = outbox("suffolk")
    assert (email.status, email.attempts) == ("failed", 1)
    assert "550" in email.last_error
    assert smtp_server.messages == []
    assert new_jobs(queue) == []


# --- (d) A worker killed mid-job: the job runs again, the e-mail goes out once ----------------


def start_worker(env: dict[str, str], log_path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "jobs_worker", "--queues", "mail,maintenance"],
        env=env, cwd=REPO, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_worker_killed_mid_send_the_job_runs_again_and_the_mail_is_delivered_once(queue, smtp_server, tmp_path):
    with schema_context("suffolk"), transaction.atomic():
        mail_send_later(to=["bob@suffolk.test"], subject=f"{MARK} Killed mid-send", body="Exactly once.")
    [email] = outbox("suffolk")
    [(job_id, *_)] = new_jobs(queue)
    env = project_env(
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
        JOBS_HEARTBEAT_SECONDS="1",
        JOBS_STALLED_AFTER_SECONDS="2",
        JOBS_STALLED_CHECK_CRON="* * * * * *",  # every second
        MAIL_SENDING_LEASE_SECONDS="5",  # the killed attempt counts as dead 5 s after it began
        # The re-queued job finds the attempt's lease still running and retries: after 1 s, 1.8 s ...
        # (15 s, 27 s in production) until the lease has run out.
        MAIL_RETRY_FIRST_WAIT_SECONDS="1",
        LOG_LEVEL="INFO",
    )

    smtp_server.delay = 60  # the server sits on the message: the worker is mid-send
    first = start_worker(env, tmp_path / "first.log")
    try:
        assert smtp_server.in_data.wait(60), (tmp_path / "first.log").read_text()
        assert query("SELECT status::text FROM procrastinate_jobs WHERE id = %s", [job_id]) == [("doing",)]
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        stop_worker(first)
    time.sleep(0.5)
    assert smtp_server.messages == []  # the server never accepted it
    [email] = outbox("suffolk")
    # The attempt was committed before SMTP (outbox.mail): it shows, unfinished.
    assert (email.status, email.attempts, email.sent_at) == ("sending", 1, None)
    assert query("SELECT status::text FROM procrastinate_jobs WHERE id = %s", [job_id]) == [("doing",)]  # stalled

    smtp_server.delay = 0
    second = start_worker(env, tmp_path / "second.log")
    try:
        deadline = time.monotonic() + 60
        while outbox("suffolk")[0].status != "sent" and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # let any duplicate arrive
    finally:
        stop_worker(second)
    log = (tmp_path / "second.log").read_text()
    [email] = outbox("suffolk")
    assert (email.status, email.attempts) == ("sent", 2), log
    assert f"re-queueing job {job_id}" in log
    assert "attempt 1 did not finish" in log
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["Message-ID"] == email.message_id
    assert "Exactly once." not in log  # bodies are never logged


def test_a_send_under_way_is_not_repeated_until_its_lease_runs_out_then_once_with_the_same_message_id(
    queue, smtp_server, settings
):
    from django.utils import timezone

    from tenant_apps.outbox.models import OutboundEmail

    with schema_context("suffolk"), transaction.atomic():
        mail_send_later(to=["bob@suffolk.test"], subject=f"{MARK} Under way", body="x")
    [email] = outbox("suffolk")
    in_a_minute = timezone.now() + dt.timedelta(minutes=1)
    with schema_context("suffolk"):  # as a live attempt leaves it, mid-SMTP
        OutboundEmail.objects.filter(id=email.id).update(status="sending", attempts=1, sending_until=in_a_minute)
        with pytest.raises(mail.EmailBeingSent):
            send_email(schema_name="suffolk", email_id=str(email.id))
    time.sleep(0.3)
    assert smtp_server.messages == []
    [email] = outbox("suffolk")
    assert (email.status, email.attempts) == ("sending", 1)  # untouched

    with schema_context("suffolk"):  # the lease ran out: that attempt is dead
        OutboundEmail.objects.filter(id=email.id).update(sending_until=timezone.now() - dt.timedelta(seconds=1))
        send_email(schema_name="suffolk", email_id=str(email.id))
    [message] = smtp_server.wait_for(1)
    [email] = outbox("suffolk")
    assert (email.status, email.attempts, email.sending_until) == ("sent", 2, None)
    assert message["Message-ID"] == email.message_id


# --- Retention ---------------------------------------------------------------------------------


def test_the_outbox_keeps_mail_for_its_retention_period_and_never_drops_a_queued_one(db, settings):
    import datetime as dt

    from django.utils import timezone

    from tenant_apps.outbox.jobs import outbox_purge
    from tenant_apps.outbox.models import OutboundEmail

    settings.OUTBOX_KEEP_DAYS = 30
    now = timezone.now()
    old, recent = now - dt.timedelta(days=31), now - dt.timedelta(days=29)

    def mail(schema: str, label: str, status: str, created_at, sent_at=None) -> None:
        with schema_context(schema):
            OutboundEmail.objects.create(message_id=f"<{schema}-{label}@test>", to=["x@example.org"],
                                         subject=f"{MARK} {label}", body="Dear Kyle", status=status,
                                         created_at=created_at, sent_at=sent_at)  # fmt: skip

    for schema in ("suffolk", "norfolk", "public"):
        mail(schema, "old sent", "sent", old, old)
        mail(schema, "recent sent", "sent", old, recent)  # queued long ago, sent recently: kept
        mail(schema, "old failed", "failed", old)
        mail(schema, "recent failed", "failed", recent)
        mail(schema, "old queued", "queued", old - dt.timedelta(days=365))

    assert outbox_purge(schema_name="suffolk") == 2  # the job, as the worker runs it
    assert outbox_purge(schema_name="suffolk") == 0  # idempotent
    kept = {"recent sent", "recent failed", "old queued"}
    with schema_context("suffolk"):
        assert {
            m.subject.removeprefix(f"{MARK} ") for m in OutboundEmail.objects.filter(subject__startswith=MARK)
        } == kept
    for schema in ("norfolk", "public"):  # another schema's mail is its own job's business
        with schema_context(schema):
            assert OutboundEmail.objects.filter(subject__startswith=MARK).count() == 5
    assert outbox_purge(schema_name="public") == 2


def test_the_periodic_purge_queues_one_job_for_public_and_each_partnership(db):
    from django.db import connection

    from tenant_apps.outbox.jobs import outbox_purge_all

    outbox_purge_all(timestamp=int(time.time()))
    outbox_purge_all(timestamp=int(time.time()))  # a second run queues nothing more
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args->>'schema_name' FROM procrastinate_jobs WHERE task_name = %s AND status = 'todo'",
            ["tenant_apps.outbox.jobs.outbox_purge"],
        )
        schemas = [row[0] for row in cursor.fetchall()]
    assert {"public", "suffolk", "norfolk"} <= set(schemas) and len(schemas) == len(set(schemas))


def test_a_suspended_partnerships_mail_is_held_and_sent_once_when_it_is_resumed(queue, smtp_server):
    from tenants.provisioning import partnership_resume, partnership_suspend

    suffolk = partnership("suffolk")
    partnership_suspend(partnership=suffolk)
    try:
        with schema_context("suffolk"), transaction.atomic():
            mail_send_later(to=["bob@suffolk.test"], subject=f"{MARK} Held while suspended", body="x")
        with schema_context("norfolk"), transaction.atomic():
            mail_send_later(to=["nina@norfolk.test"], subject=f"{MARK} Norfolk is not suspended", body="x")
        run_jobs("mail")
        [norfolk_message] = smtp_server.wait_for(1)
        assert norfolk_message["Subject"] == f"{MARK} Norfolk is not suspended"
        [held] = outbox("suffolk")
        assert (held.status, held.attempts, held.sent_at) == ("queued", 0, None)  # never tried
        assert new_jobs(queue) == []  # the job ended; nothing retries it while suspended
    finally:
        partnership_resume(partnership=partnership("suffolk"))

    run_jobs("mail")
    messages = smtp_server.wait_for(2)
    assert [m["Subject"] for m in messages] == [f"{MARK} Norfolk is not suspended", f"{MARK} Held while suspended"]
    [sent] = outbox("suffolk")
    assert (sent.status, sent.attempts) == ("sent", 1)
    partnership_resume(partnership=partnership("suffolk"))  # resuming again sends nothing again
    run_jobs("mail")
    assert len(smtp_server.messages) == 2
