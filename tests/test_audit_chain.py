"""The audit trail's hash chain (tenant_apps.audit.chain), its anchors and ``audit_verify``.

Tampering is done as the database superuser with every trigger off (``session_replication_role
= replica``), inside the test's transaction, so it is rolled back. Each such test starts from an
empty chain in Suffolk (and Norfolk), within that transaction: what other tests committed does
not count. The concurrency tests commit, and remove what they wrote (the chain left whole).

Norfolk (Nina) has a chain of her own: tampering there is never reported for Suffolk, and her
audit page never shows Suffolk's numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import re
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from concord.db_roles import owner_mode
from shared_apps.audit_anchors.models import AuditAnchor
from shared_apps.audit_anchors.services import anchor_record_for_partnership
from tenant_apps.accounts.models import User
from tenant_apps.audit import chain
from tenant_apps.audit.models import AuditEvent, ChainHead, HeldEvent
from tenant_apps.audit.services import audit_record, audit_record_apart
from tests.audit_helpers import remove_events, rewrite, rows, tamper
from tests.conftest import manage, sign_in

WRONG_KEY = b"not the key of this installation, but long enough"


def verify(*args: str) -> tuple[int, str]:
    """``audit_verify`` in this process (it sees the test's transaction): (exit code, output)."""
    out = io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue()
    return 0, out.getvalue()


def empty_chain(schema: str) -> None:
    """Start ``schema``'s chain afresh, in this test's transaction (rolled back at its end)."""
    with schema_context(schema):
        tamper("DELETE FROM audit_auditevent")
        tamper("DELETE FROM audit_heldevent")
        tamper("DELETE FROM audit_chainhead")
        tamper("DELETE FROM audit_chainverification")
    tamper("DELETE FROM audit_anchors_auditanchor WHERE schema_name = %s", [schema])
    connection.set_schema_to_public()


def write(schema: str, count: int, label: str = "event", actor=None) -> list[AuditEvent]:
    with schema_context(schema):
        events = [
            audit_record(action="case.viewed", actor=actor, object_type="case", object_id=str(n),
                         summary=f"{label} {n}",
                         changes={"status": ["open", "closed"], "n": [n, n + 0.5]} if n % 2 else None)
            for n in range(count)
        ]  # fmt: skip
    connection.set_schema_to_public()
    return events


def anchor_now() -> int:
    connection.set_schema_to_public()
    return chain.chains_anchor_all()


def by_seq(schema: str, seq: int) -> dict:
    with schema_context(schema):
        return next(row for row in rows() if row["seq"] == seq)


@pytest.fixture
def chains(db):
    """Suffolk: ten events, anchored at #6. Norfolk: three events, anchored at #3."""
    empty_chain("suffolk")
    empty_chain("norfolk")
    write("suffolk", 6)
    write("norfolk", 3, label="norfolk")
    anchor_now()
    write("suffolk", 4, label="later")
    return {"suffolk": 10, "norfolk": 3}


# --- A clean chain ------------------------------------------------------------------------------


def test_a_clean_chain_verifies_and_its_links_are_as_documented(chains):
    assert verify("--partnership", "suffolk") == (0, "suffolk: verified 10 events up to #10\n")
    assert verify() == (0, "norfolk: verified 3 events up to #3\nsuffolk: verified 10 events up to #10\n")
    with schema_context("suffolk"):
        events = rows()
        head = ChainHead.objects.get()
    assert [e["seq"] for e in events] == list(range(1, 11))
    assert events[0]["prev_hash"] == chain.genesis("suffolk")
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(events, events[1:], strict=False))
    assert all(chain.event_hash(e) == e["hash"] and re.fullmatch("[0-9a-f]{64}", e["hash"]) for e in events)
    assert (head.seq, head.hash) == (10, events[-1]["hash"])
    # Version 2: the content's canonical form (sorted keys, fixed separators, UTC to the
    # microsecond; not the event's place), its keyed MAC, and the place bound around it by SHA-256.
    assert {e["chain_version"] for e in events} == {2}
    form = chain.canonical(events[1]).decode()
    assert form.startswith('{"action":"case.viewed","actor_id":null,"actor_label":"","changes":{"n":[1,1.5],')
    assert re.search(r'"occurred_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"', form)
    assert '"seq"' not in form and '"prev_hash"' not in form and '"id"' not in form and '"hash"' not in form
    mac = hmac.new(chain.settings.AUDIT_CHAIN_KEY.encode(), form.encode(), hashlib.sha256).hexdigest()
    place = f"{events[0]['hash']}|2|{events[1]['id']}|{mac}"
    assert events[1]["hash"] == hashlib.sha256(place.encode()).hexdigest()
    assert mac not in {str(value) for e in events for value in e.values()}  # the MAC is never stored
    # The key is not in the database: no column nor setting holds it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_settings WHERE setting = %s", [chain.settings.AUDIT_CHAIN_KEY])
        assert cursor.fetchone()[0] == 0


def test_the_chain_is_per_schema_and_a_chain_copied_from_another_does_not_verify(chains):
    with schema_context("norfolk"):
        assert [e["seq"] for e in rows()] == [1, 2, 3]
        assert rows()[0]["prev_hash"] == chain.genesis("norfolk") != chain.genesis("suffolk")


# --- Tampering: each is reported, naming the first broken row -----------------------------------


def _id(seq: int) -> int:
    return by_seq("suffolk", seq)["id"]


def edit_a_row():
    with schema_context("suffolk"):
        tamper("UPDATE audit_auditevent SET summary = 'nothing to see' WHERE seq = 4")
    return f"event #4 (id {_id(4)}): hash does not match its content"


def delete_a_row():
    with schema_context("suffolk"):
        tamper("DELETE FROM audit_auditevent WHERE seq = 4")
    return f"event #5 (id {_id(5)}): event #4 is missing (removed or renumbered)"


def insert_a_row():
    last = by_seq("suffolk", 10)
    with schema_context("suffolk"):
        tamper(
            "INSERT INTO audit_auditevent (id, occurred_at, actor_label, user_agent, action, object_type, object_id, "
            "summary, seq, prev_hash, hash) VALUES (999999, now(), '', '', 'case.viewed', 'case', '1', 'forged', 11, "
            "%s, %s)",
            [last["hash"], "ab" * 32],
        )
        tamper("UPDATE audit_chainhead SET seq = 11, hash = %s", ["ab" * 32])
    return "event #11 (id 999999): hash does not match its content"


def insert_a_row_in_the_middle():
    """Rows after #5 renumbered one up, a forged #6 that links to #5 (the attacker lacks the key)."""
    fifth = by_seq("suffolk", 5)
    with schema_context("suffolk"):
        tamper("UPDATE audit_auditevent SET seq = -seq - 1 WHERE seq > 5")
        tamper("UPDATE audit_auditevent SET seq = -seq WHERE seq < 0")
        tamper(
            "INSERT INTO audit_auditevent (id, occurred_at, actor_label, user_agent, action, object_type, object_id, "
            "summary, seq, prev_hash, hash) VALUES (999998, now(), '', '', 'case.viewed', 'case', '1', 'forged', 6, "
            "%s, %s)",
            [fifth["hash"], "cd" * 32],
        )
    return "event #6 (id 999998): hash does not match its content"


def reorder_two_rows():
    fourth, fifth = _id(4), _id(5)
    with schema_context("suffolk"):
        tamper("UPDATE audit_auditevent SET seq = -1 WHERE id = %s", [fourth])
        tamper("UPDATE audit_auditevent SET seq = 4 WHERE id = %s", [fifth])
        tamper("UPDATE audit_auditevent SET seq = 5 WHERE id = %s", [fourth])
    return f"event #4 (id {fifth}): does not follow event #3 (prev_hash differs)"


def truncate_the_tail_past_the_anchor():
    """The last six events removed and the head set back to #4: only the anchor (#6) shows it."""
    fourth = by_seq("suffolk", 4)
    with schema_context("suffolk"):
        tamper("DELETE FROM audit_auditevent WHERE seq > 4")
        tamper("UPDATE audit_chainhead SET seq = 4, hash = %s", [fourth["hash"]])
    return re.compile(
        r"the chain ends at event #4 but event #6 was anchored at \d{4}-\d\d-\d\d \d\d:\d\d UTC: "
        r"events were removed from the end"
    )


def truncate_the_tail_after_the_anchor():
    """The last two events removed, the head left: the head shows it."""
    with schema_context("suffolk"):
        tamper("DELETE FROM audit_auditevent WHERE seq > 8")
    return "the chain ends at event #8 but its head says #10: events were removed from the end or the head was changed"


def rewrite_after_the_anchor_without_the_key():
    with schema_context("suffolk"):
        rewrite(key=WRONG_KEY, start=7, change=lambda row: row.update(summary="rewritten"))
    return f"event #7 (id {_id(7)}): hash does not match its content"


def rewrite_the_whole_chain_without_the_key():
    with schema_context("suffolk"):
        rewrite(key=WRONG_KEY, change=lambda row: row.update(summary="rewritten"))
    return f"event #1 (id {_id(1)}): does not follow the chain's start (prev_hash differs)"


def rewrite_the_whole_chain_with_the_key():
    """Someone holding the key rewrites event #2 and every hash after it, and fixes the head:
    every row verifies, but the anchor (#6) no longer matches."""
    with schema_context("suffolk"):
        rewrite(key=chain.settings.AUDIT_CHAIN_KEY.encode(),
                change=lambda row: row.update(summary="rewritten") if row["seq"] == 2 else None)  # fmt: skip
    return re.compile(
        r"event #6 is not the event anchored at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(its hash differs\): "
        r"the chain was rewritten"
    )


TAMPERING = [
    edit_a_row, delete_a_row, insert_a_row, insert_a_row_in_the_middle, reorder_two_rows,
    truncate_the_tail_past_the_anchor, truncate_the_tail_after_the_anchor,
    rewrite_after_the_anchor_without_the_key, rewrite_the_whole_chain_without_the_key,
    rewrite_the_whole_chain_with_the_key,
]  # fmt: skip


@pytest.mark.parametrize("how", TAMPERING, ids=lambda how: how.__name__)
def test_audit_verify_reports_each_tampering_naming_the_row(chains, how):
    expected = how()
    code, output = verify("--partnership", "suffolk")
    assert code == 1, output
    line = output.strip()
    assert "\n" not in line
    problem = line.removeprefix("suffolk: ")
    if isinstance(expected, str):
        assert problem == expected
    else:
        assert expected.fullmatch(problem), problem
    # Norfolk is untouched: still verified, and every chain is checked even when one is broken.
    code, output = verify()
    assert code == 1 and "norfolk: verified 3 events up to #3\n" in output and output.count("\n") == 2


def test_tampering_in_norfolk_is_not_reported_for_suffolk(chains):
    with schema_context("norfolk"):
        tamper("UPDATE audit_auditevent SET summary = 'changed' WHERE seq = 2")
    assert verify("--partnership", "suffolk") == (0, "suffolk: verified 10 events up to #10\n")
    code, output = verify("--partnership", "norfolk")
    assert code == 1 and "norfolk: event #2 (id " in output and "hash does not match its content" in output


def test_an_unknown_partnership_exits_2_with_one_line(db):
    result = manage("audit_verify", "--partnership", "nowhere")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == ["CommandError: unknown partnership 'nowhere'"]
    assert result.stdout == ""


# --- Anchors -----------------------------------------------------------------------------------


def test_anchors_are_written_when_the_head_moved_and_are_append_only(chains):
    anchors = {a.schema_name: a.seq for a in AuditAnchor.objects.filter(schema_name__in=["suffolk", "norfolk"])}
    assert anchors == {"suffolk": 6, "norfolk": 3}
    assert anchor_now() == 1  # Suffolk moved to #10; Norfolk did not move
    latest = AuditAnchor.objects.filter(schema_name="suffolk").order_by("-seq").first()
    assert (latest.seq, latest.hash) == (10, by_seq("suffolk", 10)["hash"])
    assert anchor_now() == 0
    with transaction.atomic(), pytest.raises(Exception, match="audit anchors are append-only"):
        AuditAnchor.objects.filter(pk=latest.pk).update(hash="0" * 64)
    with transaction.atomic(), pytest.raises(Exception, match="audit anchors are append-only"):
        AuditAnchor.objects.filter(pk=latest.pk).delete()
    # Public rows are written from the public context only.
    with schema_context("suffolk"), pytest.raises(RuntimeError, match="outside schema_context"):
        anchor_record_for_partnership(schema_name="suffolk", seq=11, hash="0" * 64)


def test_events_stay_append_only(chains):
    with schema_context("suffolk"):
        # The partnership's role may only read and add (concord.db_roles); the trigger stops the owner.
        for refused, mode in (("permission denied for table audit_auditevent", contextlib.nullcontext),
                              ("append-only", owner_mode)):  # fmt: skip
            with mode():
                with transaction.atomic(), pytest.raises(Exception, match=refused):
                    AuditEvent.objects.filter(seq=3).update(summary="changed")
                with transaction.atomic(), pytest.raises(Exception, match=refused):
                    AuditEvent.objects.filter(seq=3).delete()


# --- The audit page --------------------------------------------------------------------------


def _page(client) -> str:
    response = client.get("/admin/audit/")
    assert response.status_code == 200
    return response.content.decode()


def _chain_line(page: str) -> str:
    found = re.search(r'id="audit-chain-state">(.*?)</(p|div)>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_audit_page_shows_the_last_verification_of_its_own_chain(chains, alice_client, norfolk_client):
    sign_in(norfolk_client, "nina@norfolk.test")
    assert _chain_line(_page(alice_client)) == "The chain of events has not been verified yet."
    assert verify()[0] == 0
    with schema_context("suffolk"):
        suffolk_last = chain.chain_last_link()[0]  # ten, and the sign-in's events
    with schema_context("norfolk"):
        norfolk_last = chain.chain_last_link()[0]
    assert suffolk_last > 10 and 3 < norfolk_last != suffolk_last
    verified = r"Chain verified up to event {} at \d+ \w+ \d{{4}}, \d\d:\d\d\."
    # The page never verifies: the number stays that of the last verification.
    assert re.fullmatch(verified.format(suffolk_last), _chain_line(_page(alice_client)))
    assert re.fullmatch(verified.format(norfolk_last), _chain_line(_page(norfolk_client)))
    # Broken in Suffolk: Alice sees the warning with the row; Nina still sees her own chain verified.
    edit_a_row()
    assert verify()[0] == 1
    line = _chain_line(_page(alice_client))
    assert line.startswith("! Warning The chain of events failed verification at ")
    assert "event #4 (id " in line and "hash does not match its content. Events up to 3 verified." in line
    assert re.fullmatch(verified.format(norfolk_last), _chain_line(_page(norfolk_client)))


def test_the_audit_page_costs_the_same_verified_or_not_and_for_a_long_chain(chains, alice_client):
    def count() -> int:
        alice_client.get("/admin/audit/")  # warm the per-process caches
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get("/admin/audit/").status_code == 200
        return len(captured)

    never = count()
    assert verify()[0] == 0
    verified = count()
    with schema_context("suffolk"):
        alice = User.objects.get(email="alice@suffolk.test")
    write("suffolk", 120, label="more", actor=alice)  # by someone, as the sign-in's events on the page
    assert verify()[0] == 0
    assert count() == verified == never
    # Measured: 14. Routing 3, session, user, device, the filter's users, the count, the page of
    # events with their actors, the actors' names, the menu's overdue count and the admin's casework
    # scope, and the chain's last verification (one read, never a verification per view).
    assert verified <= 14, verified


# --- Concurrency and rollback (committed) ----------------------------------------------------


MARK = "chain-concurrency"


@pytest.fixture
def committed_marks(committed_db):
    yield
    remove_events("suffolk", "summary LIKE %s", [f"{MARK}%"])


def _linked(events: list[AuditEvent]) -> None:
    seqs = [e.seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(events))), "a gap or a fork"
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


def test_eight_concurrent_writers_make_one_chain_without_a_fork_or_a_gap(committed_marks):
    barrier = threading.Barrier(8)
    failures = []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            with schema_context("suffolk"):
                for i in range(25):
                    with transaction.atomic():  # the audited write's own transaction
                        audit_record(action="case.viewed", object_type="case", object_id=str(i),
                                     summary=f"{MARK} {n}-{i}")  # fmt: skip
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with schema_context("suffolk"):
        events = list(AuditEvent.objects.filter(summary__startswith=MARK).order_by("seq"))
    assert len(events) == 200 and len({e.summary for e in events}) == 200
    _linked(events)
    assert chain.chain_verify("suffolk").ok


def test_a_rolled_back_transaction_leaves_no_gap(committed_marks):
    with schema_context("suffolk"):
        before = audit_record(action="case.viewed", summary=f"{MARK} before")
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(action="case.viewed", summary=f"{MARK} rolled back")
            raise RuntimeError("the work failed")
        after = audit_record(action="case.viewed", summary=f"{MARK} after")
        assert not AuditEvent.objects.filter(summary=f"{MARK} rolled back").exists()
    assert after.seq == before.seq + 1 and after.prev_hash == before.hash
    assert chain.chain_verify("suffolk").ok


def test_an_event_recorded_apart_while_the_transaction_holds_the_head_is_chained_after_it(committed_marks):
    """The caller's transaction holds the chain head (it recorded an event): the refusal is kept
    apart at once (committed, no waiting for a lock) and chained once that transaction ended."""
    with schema_context("suffolk"):
        started = time.monotonic()
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(action="case.viewed", summary=f"{MARK} the work")
            audit_record_apart(action="document.malware_refused", summary=f"{MARK} refused apart")
            raise RuntimeError("the upload is refused")
        assert time.monotonic() - started < 2
        assert HeldEvent.objects.filter(summary=f"{MARK} refused apart").count() == 1
        chain.chain_drain_held()
        refused = AuditEvent.objects.get(summary=f"{MARK} refused apart")
        assert not HeldEvent.objects.exists() and refused.action == "document.malware_refused"
        assert not AuditEvent.objects.filter(summary=f"{MARK} the work").exists()
    assert chain.chain_verify("suffolk").ok


# --- The key -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "short"])
def test_production_refuses_to_start_without_a_real_chain_key(key):
    import subprocess
    import sys

    from tests.conftest import REPO, project_env
    from tests.production_helpers import SECRET_KEY

    environment = project_env(DJANGO_SETTINGS_MODULE="concord.settings.production", SECRET_KEY=SECRET_KEY,
                              FIELD_ENCRYPTION_KEYS="8DqTg2U6H4vYyJ3Hq8pQYxFQk6aZ0kVbq7l1bW3kz2c=")  # fmt: skip
    environment.pop("AUDIT_CHAIN_KEY")
    if key is not None:
        environment["AUDIT_CHAIN_KEY"] = key
    result = subprocess.run([sys.executable, "-c", "import django; django.setup(); print('started')"],
                            env=environment, capture_output=True, text=True, cwd=REPO, timeout=60)  # fmt: skip
    assert result.returncode != 0
    message = "AUDIT_CHAIN_KEY must be set" if key is None else "AUDIT_CHAIN_KEY must be a random value"
    assert message in result.stderr


# --- The migration and the jobs ----------------------------------------------------------------


def test_the_migration_chains_existing_events_in_id_order(db):
    """Events from before the chain (their links not yet set) are chained in id order, and the
    head made; the append-only trigger is on again afterwards."""
    import importlib
    from types import SimpleNamespace

    migration = importlib.import_module("tenant_apps.audit.migrations.0004_hash_chain")
    empty_chain("suffolk")
    with schema_context("suffolk"):
        for n, event_id in enumerate((501, 502, 700)):
            tamper(
                "INSERT INTO audit_auditevent (id, occurred_at, actor_label, ip_address, user_agent, action, "
                "object_type, object_id, summary, changes, seq, prev_hash, hash, chain_version) VALUES (%s, now() - %s "
                "* interval '1 hour', '', '::1', '', 'auth.sign_in', '', '', %s, %s::jsonb, %s, '', '', 1)",
                [event_id, n, f"old {n}", '{"role": ["viewer", "admin"]}' if n == 1 else None, 1000 - n],
            )
        with owner_mode():  # migrations run as the owner
            migration.chain_existing_events(None, SimpleNamespace(connection=connection))
        events = rows()
        assert [(e["id"], e["seq"]) for e in events] == [(501, 1), (502, 2), (700, 3)]
        assert ChainHead.objects.get().seq == 3
        with owner_mode(), transaction.atomic(), pytest.raises(Exception, match="append-only"):
            AuditEvent.objects.filter(id=501).update(summary="changed")
    connection.set_schema_to_public()
    assert verify("--partnership", "suffolk") == (0, "suffolk: verified 3 events up to #3\n")
    # Those events keep version 1 (migration 0005 did not re-hash them); a new one is version 2,
    # linked to them, and the mixed chain verifies. A version 1 event claiming version 2 does not.
    write("suffolk", 1, label="new")
    with schema_context("suffolk"):
        assert [(e["seq"], e["chain_version"]) for e in rows()] == [(1, 1), (2, 1), (3, 1), (4, 2)]
        assert rows()[3]["prev_hash"] == rows()[2]["hash"]
    assert verify("--partnership", "suffolk") == (0, "suffolk: verified 4 events up to #4\n")
    with schema_context("suffolk"):
        tamper("UPDATE audit_auditevent SET chain_version = 2 WHERE seq = 2")
    assert verify("--partnership", "suffolk") == (1, "suffolk: event #2 (id 502): hash does not match its content\n")


def test_the_periodic_jobs_anchor_and_verify(chains):
    from tenant_apps.audit import jobs

    assert jobs.audit_chains_anchor(timestamp=0) >= 1  # Suffolk moved to #10 since the fixture's anchor
    assert AuditAnchor.objects.filter(schema_name="suffolk").order_by("-seq").first().seq == 10
    assert jobs.audit_chain_verify(schema_name="suffolk") is True
    with schema_context("suffolk"):
        edit_a_row()
    assert jobs.audit_chain_verify(schema_name="suffolk") is False
    with schema_context("suffolk"):
        state = chain_verification()
    assert not state.ok and state.up_to == 3 and "event #4 (id " in state.problem


def chain_verification():
    from tenant_apps.audit.models import ChainVerification

    return ChainVerification.objects.get()
