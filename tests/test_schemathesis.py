"""Schemathesis over every operation of the OpenAPI schema: zero 5xx, zero schema violations, and
no answer carrying one of Norfolk's canaries (tests/attack_helpers.py; issue 11, point 6).

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
from tests.attack_helpers import plant
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


def test_schemathesis_finds_no_canary_no_5xx_and_conformant_answers(cast, s3, capsys):
    records = make_records(cast, with_document=True)
    # Norfolk's canaries (tests/attack_helpers.py): no answer to Bob on Suffolk's host may carry one.
    planted = plant(cast)
    canaries = [marker.encode() for marker in planted.tiers("NORFOLK")]
    owns = [marker.encode() for marker in planted.tiers("SUFFOLK")]  # Bob's own: seen, so the check reads answers
    own_seen = []
    leaks: list[str] = []
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
        seen = response.content + "\n".join(f"{k}: {v}" for k, v in response.headers.items()).encode()
        own_seen.extend(m for m in owns if m in seen)
        leaks.extend(f"{case.method} {case.formatted_path} shows {m.decode()}" for m in canaries if m in seen)
        case.validate_response(response, checks=checks)

    for result in schema.get_all_operations():
        operation = result.ok()
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
        print(f"\nschemathesis: {calls} calls in {elapsed:.1f} s, {len(failures)} failures, "
              f"{len(leaks)} of Norfolk's canaries seen ({len(own_seen)} of Bob's own), "
              f"answers by status: {dict(sorted(statuses.items()))}")  # fmt: skip
    assert not leaks, "\n".join(dict.fromkeys(leaks))
    assert own_seen  # the canary check reads the answers
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(dict.fromkeys(failures))
    assert calls > 300
    assert sum(count for status, count in statuses.items() if status < 300) > calls // 4  # the views were reached
