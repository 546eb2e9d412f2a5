"""The client's address (``concord.http.client_ip``), read one way for the audit trail and the
sign-in throttle: ``X-Forwarded-For`` only from one of ``TRUSTED_PROXIES``, walked from the right.

The cast: our load balancers at 10.0.0.0/24; a client at 203.0.113.x who writes whatever
``X-Forwarded-For`` it likes. A client's header must never move the throttle or an audit row
to an address of its choosing.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django_tenants.utils import schema_context

from concord.http import client_ip
from tests.conftest import PASSWORD, sign_in

PROXIES = ["10.0.0.0/24"]
THROTTLED = b"Too many failed attempts from your network"


def _ip(remote_addr, forwarded=None) -> str | None:
    meta = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_a_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert _ip("203.0.113.5", "198.51.100.1") == "203.0.113.5"  # nothing trusted: the header is noise
    settings.TRUSTED_PROXIES = PROXIES
    assert _ip("203.0.113.5", "198.51.100.1") == "203.0.113.5"  # a client is not our proxy
    assert _ip("203.0.113.5", "198.51.100.1, 10.0.0.7") == "203.0.113.5"  # naming our proxy changes nothing
    assert _ip("10.0.1.1", "198.51.100.1") == "10.0.1.1"  # just outside the network


def test_a_forwarded_for_from_a_trusted_proxy_is_used(settings):
    settings.TRUSTED_PROXIES = PROXIES
    assert _ip("10.0.0.7", "203.0.113.5") == "203.0.113.5"
    # What the client wrote itself sits left of what our proxy appended: never believed.
    assert _ip("10.0.0.7", "6.6.6.6, 203.0.113.5") == "203.0.113.5"
    assert _ip("10.0.0.7") == "10.0.0.7"  # no header: the proxy itself (a health check)
    assert _ip("10.0.0.7", "") == "10.0.0.7"


def test_chains_of_proxies_are_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "192.0.2.10", "2001:db8::/32"]
    # client -> CDN (192.0.2.10) -> load balancer (10.0.0.3) -> gunicorn
    assert _ip("10.0.0.7", "6.6.6.6, 203.0.113.5, 192.0.2.10, 10.0.0.3") == "203.0.113.5"
    assert _ip("2001:db8::7", "203.0.113.5, 2001:db8::1") == "203.0.113.5"
    assert _ip("10.0.0.7", "2001:DB8:0:0::9, 2001:db8::1") == "2001:db8::9"  # all trusted: the leftmost, normalised
    assert _ip("10.0.0.7", "10.0.0.1, 10.0.0.2") == "10.0.0.1"
    assert _ip("10.0.0.7", "2001:db8:ffff::5, 198.51.100.77") == "198.51.100.77"
    assert _ip("::ffff:10.0.0.7", "203.0.113.5") == "203.0.113.5"  # IPv4-mapped peer: its IPv4 address
    assert _ip("10.0.0.7", "::ffff:203.0.113.5") == "203.0.113.5"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("unknown", "10.0.0.7"),  # not an address: the last trusted hop
        ("203.0.113.5, unknown", "10.0.0.7"),
        ("unknown, 203.0.113.5", "203.0.113.5"),  # garbage left of the client is never read
        ("203.0.113.5, 10.0.0.3, not-an-ip", "10.0.0.7"),
        ("203.0.113.5, garbage, 10.0.0.3", "10.0.0.3"),
        ("203.0.113.5:4711", "10.0.0.7"),  # a port is not an address
        (" , ,203.0.113.5 , ", "203.0.113.5"),  # empty items and spaces are skipped
        ("203.0.113.5\x00", "10.0.0.7"),
        ("1" * 5000, "10.0.0.7"),
        ("203.0.113.5/24", "10.0.0.7"),
        ("999.1.1.1", "10.0.0.7"),
    ],
)
def test_garbage_header_values_never_become_the_client(settings, forwarded, expected):
    settings.TRUSTED_PROXIES = PROXIES
    assert _ip("10.0.0.7", forwarded) == expected


def test_a_remote_addr_that_is_not_an_address_is_none(settings):
    settings.TRUSTED_PROXIES = PROXIES
    assert _ip("not an address", "203.0.113.5") is None
    assert _ip("", "203.0.113.5") is None


def test_the_setting_is_read_strictly_from_the_environment(monkeypatch):
    from concord.env import EnvError, env_networks

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/24, 192.0.2.10,2001:db8::/32")
    assert env_networks("TRUSTED_PROXIES", []) == ["10.0.0.0/24", "192.0.2.10/32", "2001:db8::/32"]
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/24, load-balancer")
    with pytest.raises(EnvError, match="TRUSTED_PROXIES"):
        env_networks("TRUSTED_PROXIES", [])
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert env_networks("TRUSTED_PROXIES", []) == []


# --- Through real requests: the audit row and the sign-in throttle ------------------------------


def _signed_in_address(client: Client, email: str) -> str:
    from tenant_apps.audit.models import AuditEvent

    sign_in(client, email)
    with schema_context("suffolk"):
        return AuditEvent.objects.filter(action="auth.sign_in").latest("pk").ip_address


def test_the_audit_row_records_the_client_behind_our_proxy_and_never_a_spoofed_address(db, settings):
    settings.TRUSTED_PROXIES = PROXIES
    spoofed = Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR="203.0.113.21", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert _signed_in_address(spoofed, "bob@suffolk.test") == "203.0.113.21"
    proxied = Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR="10.0.0.7",
                     HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.22")  # fmt: skip
    assert _signed_in_address(proxied, "alice@suffolk.test") == "203.0.113.22"


def _fail(client: Client, email: str):
    return client.post("/account/sign-in/", {"email": email, "password": "not the password"})


def _sign_in_as_bob(client: Client):
    return client.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})


def test_the_sign_in_throttle_counts_the_client_behind_our_proxy(db, settings):
    from tenant_apps.accounts.models import FailedSignIn

    settings.TRUSTED_PROXIES = PROXIES
    settings.SIGN_IN_IP_MAX_FAILURES = 3  # the production value is 20: the same rule, faster

    def behind_proxy(client_address: str, written: str = "") -> Client:
        chain = f"{written}, {client_address}" if written else client_address
        return Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR=chain)

    for n in range(3):  # the attacker writes a new address each time: no use, ours is appended
        _fail(behind_proxy("203.0.113.31", written=f"198.51.100.{n + 1}"), f"nobody{n}@suffolk.test")
    with schema_context("public"):
        assert set(FailedSignIn.objects.values_list("ip_address", flat=True)) == {"203.0.113.31"}
    assert THROTTLED in _fail(behind_proxy("203.0.113.31"), "bob@suffolk.test").content
    assert THROTTLED in _sign_in_as_bob(behind_proxy("203.0.113.31")).content
    # Another client behind the same proxy is not held up by the attacker: the proxy is not the key.
    assert _sign_in_as_bob(behind_proxy("203.0.113.32")).status_code == 302


def test_a_spoofed_forwarded_for_does_not_escape_the_sign_in_throttle(db, settings):
    from tenant_apps.accounts.models import FailedSignIn

    settings.TRUSTED_PROXIES = PROXIES
    settings.SIGN_IN_IP_MAX_FAILURES = 3

    def spoofing(written: str) -> Client:
        return Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR="203.0.113.41", HTTP_X_FORWARDED_FOR=written)

    for n in range(3):
        _fail(spoofing(f"198.51.100.{n + 1}, 10.0.0.{n + 1}"), f"nobody{n}@suffolk.test")
    with schema_context("public"):
        assert set(FailedSignIn.objects.values_list("ip_address", flat=True)) == {"203.0.113.41"}
    assert THROTTLED in _sign_in_as_bob(spoofing("198.51.100.99")).content
