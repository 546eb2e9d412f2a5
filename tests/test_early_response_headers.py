"""Production's security treatment on every response, including those that answer early:
an unknown host, a host we do not serve, the suspended page, /healthz and static files.

gunicorn with production settings (tests/settings_production.py: HTTPS redirect on, HSTS)
on the private cluster, where Norfolk is suspended for the test. Plain HTTP is redirected
to HTTPS, except /healthz (load balancers probe over plain HTTP) and hosts outside
ALLOWED_HOSTS (never redirected to a host we do not serve); HTTPS is what the proxy says
(``X-Forwarded-Proto: https``)."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import Server
from tests.production_helpers import Browser, production_env

HSTS = "max-age=63072000; includeSubDomains; preload"


def _set_norfolk(cluster, status: str) -> None:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("UPDATE tenants_partnership SET status = %s WHERE schema_name = 'norfolk'", [status])


@pytest.fixture(scope="module")
def _started():
    """One server for the module (started by the first test that needs it), stopped at its end."""
    started: dict = {}
    yield started
    if started:
        started["server"].stop()
        started["cluster"].start()
        _set_norfolk(started["cluster"], "active")


@pytest.fixture
def server(private_pg, _started):
    if not _started:
        _set_norfolk(private_pg, "suspended")
        _started.update(cluster=private_pg, server=Server(production_env(**private_pg.env()), workers=1))
    return _started["server"]


def get(server, host_name: str, path: str, *, https: bool):
    status, headers, body, _ = Browser(server, host_name, https=https).get(path)
    return status, headers, body


def assert_treated(headers: dict, *, https: bool, static: bool = False):
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    if https:
        assert headers["strict-transport-security"] == HSTS
    else:
        assert "strict-transport-security" not in headers  # HSTS over plain HTTP means nothing
    if not static:
        assert "no-store" in headers["cache-control"]


EARLY = [
    # (host, path, status over HTTPS, what it is)
    ("nowhere.localhost", "/", 404, "an unknown partnership host"),
    ("norfolk.localhost", "/", 403, "a suspended partnership"),
    ("norfolk.localhost", "/account/sign-in/", 403, "a suspended partnership"),
    ("suffolk.localhost", "/static/concord/concord.css", 200, "a static file"),
    ("norfolk.localhost", "/static/concord/concord.css", 200, "a static file of a suspended partnership"),
    ("localhost", "/", 200, "the public site"),
    ("suffolk.localhost", "/account/sign-in/", 200, "a partnership page"),
]


@pytest.mark.parametrize(("host_name", "path", "status", "what"), EARLY, ids=[f"{h}{p}" for h, p, _, _ in EARLY])
def test_plain_http_is_redirected_to_https_and_https_gets_hsts(server, host_name, path, status, what):
    got, headers, _ = get(server, host_name, path, https=False)
    assert got == 301, what
    assert headers["location"] == f"https://{host_name}{path}"
    assert_treated(headers, https=False, static=path.startswith("/static/"))

    got, headers, body = get(server, host_name, path, https=True)
    assert got == status, what
    assert_treated(headers, https=True, static=path.startswith("/static/"))
    if status == 403:
        assert b"is suspended" in body


@pytest.mark.parametrize("host_name", ["evil.example", "suffolk.localhost.evil.example", "127.0.0.1"])
def test_a_host_we_do_not_serve_gets_404_with_the_headers_and_no_redirect(server, host_name):
    for https in (False, True):
        status, headers, body = get(server, host_name, "/", https=https)
        assert status == 404
        assert "location" not in headers
        assert b"Concord</h1>" not in body
        assert_treated(headers, https=https)


@pytest.mark.parametrize("host_name", ["suffolk.localhost", "norfolk.localhost", "evil.example"])
def test_healthz_answers_plain_http_for_load_balancers_and_gets_hsts_over_https(server, host_name):
    for https in (False, True):
        status, headers, body = get(server, host_name, "/healthz", https=https)
        assert status == 200 and b'"ok"' in body
        assert_treated(headers, https=https)
