"""Schemathesis over every operation of the OpenAPI schema: zero 5xx, zero schema violations, and
no answer that carries a canary: a random marker planted in Norfolk's records (another partnership)
and in the private records of a Suffolk team of another agency, which Bob may not see.

Bounded for CI (``BOUNDED``): a fixed seed (hypothesis ``derandomize``), 5 examples per operation
and mode, no shrinking; the run's time is printed. Requests go through Django's real WSGI handler (CSRF,
sessions, the second-factor check and tenant routing all run), signed in as Bob with a real
session cookie and CSRF token, inside the test's transaction (rolled back afterwards). Every path
parameter is a real record's id (tests/api_input_helpers.py), so operations reach their views.
"""

from __future__ import annotations

import secrets
import time
from contextlib import contextmanager

import schemathesis
import werkzeug.test
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api_input_helpers import make_records, openapi_schema, path_ids
from tests.test_casework_api import client_of

HOST = "suffolk.localhost"
BOUNDED = hypothesis_settings(
    max_examples=5,  # per operation and generation mode (positive, negative): 53 operations, ~530 calls
    derandomize=True,  # a fixed seed: the same examples on every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as found
    suppress_health_check=list(HealthCheck),
)


@contextmanager
def connection_kept_open():
    """As Django's test client does around each request: a request must not close the test's
    connection (it would end the test's transaction). The test client connects the handlers
    again after each of its requests, so this wraps the WSGI calls, after the sign-in."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _checker(operation, mode, *, ids: dict, call):
    """A bounded hypothesis test of one operation in one mode, with real ids in its path."""

    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        if ids:
            case.path_parameters = {**(case.path_parameters or {}), **ids}
        call(case)

    return check


def plant_canaries(cast) -> list[str]:
    """Markers in records Bob must never read: Norfolk's (a practitioner's profile, case, entry and
    task there) and Dan's in Suffolk (Constabulary, Safer Neighbourhood Team, shared with nobody),
    including a sensitive entry. Returns the markers."""
    import datetime as dt

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from tenant_apps.accounts.models import User
    from tenant_apps.casework import services
    from tenant_apps.casework.models import CaseType
    from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership
    from tenant_apps.tasks import services as task_services

    markers = []

    def plant(user, team, where: str):
        marker = f"Canary{where}{secrets.token_hex(6)}"
        markers.append(marker)
        profile = services.profile_create(user=user, owning_team=team, first_name=marker, last_name=f"{marker}x",
                                          notes=marker, phone="01473 000000")  # fmt: skip
        case = services.case_create(user=user, case_type=CaseType.objects.get(code="ASB"), title=f"Case {marker}",
                                    owning_team=team, subjects=[(profile, "perpetrator")])  # fmt: skip
        when = timezone.now() - dt.timedelta(hours=2)
        services.entry_create(user=user, case=case, kind="visit", summary=f"Visit {marker}", body=marker,
                              occurred_at=when)  # fmt: skip
        services.entry_create(user=user, case=case, kind="visit", summary=f"Sensitive {marker}", body=marker,
                              occurred_at=when, is_sensitive=True, restricted_to_teams=[team])  # fmt: skip
        task_services.task_create(user=user, title=f"Task {marker}", case=case, assigned_team=team,
                                  due_date=timezone.localdate() + dt.timedelta(3))  # fmt: skip

    with schema_context("suffolk"):
        plant(cast["dan"], cast["snt"], "Suffolk")
    with schema_context("norfolk"):
        agency = Agency.objects.create(name="Norfolk Council", kind="council")
        team = Team.objects.create(agency=agency, name="Norfolk ASB")
        norah = User.objects.create_user("norah@norfolk.test", password=secrets.token_urlsafe(24),
                                         full_name="Norah", role="practitioner")  # fmt: skip
        Membership.objects.create(user=norah, agency=agency)
        TeamMembership.objects.create(user=norah, team=team)
        plant(norah, team, "Norfolk")
    return markers


def test_schemathesis_finds_no_canary_no_5xx_and_conformant_answers(cast, s3, capsys):
    canaries = plant_canaries(cast)
    records = make_records(cast, with_document=True)
    bob = client_of(cast, "bob")
    csrf = secrets.token_hex(16)  # a CSRF cookie of our own, sent back in the header, as a browser's script would
    # In a werkzeug client's cookie jar for the partnership's host: schemathesis's ``cookies=`` are
    # set for the host "localhost" only, and werkzeug drops a Cookie header it did not make.
    app = WSGIHandler()
    browser = werkzeug.test.Client(app)
    browser.set_cookie(settings.SESSION_COOKIE_NAME, bob.cookies[settings.SESSION_COOKIE_NAME].value, domain=HOST)
    browser.set_cookie(settings.CSRF_COOKIE_NAME, csrf, domain=HOST)
    headers = {"X-CSRFToken": csrf}

    schema = schemathesis.openapi.from_dict(openapi_schema())
    schema.app = app
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    failures: list[str] = []
    started = time.monotonic()
    statuses: dict[int, int] = {}

    def call(case):
        # The schema's bearer scheme (API clients' tokens) makes schemathesis invent tokens, which
        # can only be refused (401, tests/test_api_clients.py): the calls go as Bob, by his session.
        if case.headers:
            case.headers.pop("Authorization", None)
        response = case.call(base_url=f"http://{HOST}", session=browser, headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        answer = response.content.decode("utf-8", "replace") + "\n" + repr(dict(response.headers))
        leaked = [canary for canary in canaries if canary in answer]
        if leaked:
            raise AssertionError(f"a canary leaked ({leaked}) in {response.status_code}: {answer[:500]}")
        case.validate_response(response, checks=checks)

    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        ids = path_ids(operation.path, records)

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            check = _checker(operation, mode, ids=ids, call=call)
            try:
                with connection_kept_open():
                    check()
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - the first failure of each, reported below
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {str(error)[:1500]}")

    elapsed = time.monotonic() - started
    calls = sum(statuses.values())
    with capsys.disabled():
        print(f"\nschemathesis: {operations} operations, {calls} calls in {elapsed:.1f} s, {len(failures)} failures, "
              f"{calls} answers searched for {len(canaries)} canaries, "
              f"answers by status: {dict(sorted(statuses.items()))}")  # fmt: skip
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(dict.fromkeys(failures))
    assert calls > 300
    assert sum(count for status, count in statuses.items() if status < 300) > calls // 4  # the views were reached
