"""The sign-in limits hold under parallel requests: a real gunicorn (2 workers of 8 threads) and
30 clients released together, each with its own session, CSRF token and (through
``X-Forwarded-For``, loopback being the trusted proxy here) its own client address.

The cast: Rita Racer, a Suffolk practitioner made for each test (committed: the server reads
another connection; deactivated afterwards, as her audit events stay); strangers at addresses of
the benchmarking range 198.18.0.0/15, made afresh for each run; Nina, Norfolk's admin, who must
not be held up by anything aimed at Suffolk (apart from an address throttled platform-wide).

"Checked" means the password or code was actually compared: each such failure leaves one
``FailedSignIn`` row (public schema); an attempt refused by a limit leaves none. With small limits
passed to the server (``SIGN_IN_ACCOUNT_MAX_FAILURES``, ``SIGN_IN_IP_MAX_FAILURES``), exactly that
many of the parallel attempts are checked, never more.

The last tests check the charge's bookkeeping in-process (rolled back): a success releases its
charge, a full sign-in forgets its own failures, a release removes one entry per timestamp.
"""

from __future__ import annotations

import http.client
import ipaddress
import itertools
import re
import secrets
import threading
import time
import uuid
from statistics import median
from urllib.parse import urlencode

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.conftest import PASSWORD, TOTP_SECRETS, enrol_authenticator, forget_used_codes, free_port, project_env
from tests.serving import gunicorn_serving

PARALLEL = 30
ACCOUNT_MAX = 6  # the production values are 100 and 20: the same rules, faster
ADDRESS_MAX = 7
WRONG = "definitely not the password"
WRONG_PASSWORD_PAGE = "Enter a correct e-mail address and password."
NEW_DEVICES = "Too many failed attempts for this e-mail address from new devices."
FROM_YOUR_NETWORK = "Too many failed attempts from your network."
WRONG_CODE = "Enter the 6-digit code from your authenticator app, or one of your backup codes."


class Browser:
    """One visitor over real HTTP from ``address``: keeps its cookies, sends its CSRF token."""

    def __init__(self, port: int, host: str, address: str):
        self.port, self.host, self.address = port, host, address
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.email = ""  # the address this visitor tries, where each tries another

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        headers = {"Host": self.host, "X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({"csrfmiddlewaretoken": self.csrf, **form})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read().decode()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
        finally:
            conn.close()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if match:
            self.csrf = match.group(1)
        return response.status, dict(response.getheaders()), content

    def open(self, path: str) -> Browser:
        status, _, _ = self.request("GET", path)
        assert status == 200 and self.csrf, (path, status)
        return self

    def post(self, path: str, form: dict) -> tuple[int, dict, str]:
        return self.request("POST", path, form)


def _together(browsers: list[Browser], act) -> list:
    """``act(browser)`` in one thread per browser, released at the same moment."""
    barrier = threading.Barrier(len(browsers))
    results: list = [None] * len(browsers)
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = act(browsers[index])
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


_NEXT_ADDRESS = itertools.count(secrets.randbelow(256) * 256)  # a random start in 198.18.0.0/15 per run


def _addresses(count: int) -> list[str]:
    """``count`` client addresses nothing else in this run uses."""
    return [str(ipaddress.ip_address("198.18.0.0") + next(_NEXT_ADDRESS)) for _ in range(count)]


def _checked(addresses: list[str]) -> int:
    from tenant_apps.accounts.models import FailedSignIn

    with schema_context("public"):
        count = FailedSignIn.objects.filter(ip_address__in=addresses).count()
    connection.set_schema_to_public()
    return count


def _page(html: str, email: str) -> str:
    """The page as a visitor compares it: the address they typed and the CSRF token taken out."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.replace(email, "EMAIL"))


def _clear_sign_in_failures() -> None:
    from tenant_apps.accounts.models import FailedSignIn, SignInLimit

    with schema_context("public"):
        FailedSignIn.objects.all().delete()
        SignInLimit.objects.all().delete()
    connection.set_schema_to_public()


@pytest.fixture(scope="module")
def server(django_db_setup):
    """The project under gunicorn, loopback trusted as our proxy, with small limits."""
    port = free_port()
    env = project_env(TRUSTED_PROXIES="127.0.0.1/32", SIGN_IN_ACCOUNT_MAX_FAILURES=str(ACCOUNT_MAX),
                      SIGN_IN_IP_MAX_FAILURES=str(ADDRESS_MAX))  # fmt: skip
    with gunicorn_serving(["-m", "gunicorn"], env=env, port=port, workers=2, threads=8):
        yield port


@pytest.fixture
def rita(committed_db):
    """A committed Suffolk practitioner with the cast's password and an authenticator."""
    from tenant_apps.accounts.models import BackupCodeDevice, TOTPDevice, User

    email = f"rita-{uuid.uuid4().hex[:10]}@suffolk.test"
    with schema_context("suffolk"):
        user = User.objects.create_user(email, password=PASSWORD, full_name="Rita Racer")
        TOTP_SECRETS[email] = enrol_authenticator(user)
    connection.set_schema_to_public()
    try:
        yield user
    finally:
        with schema_context("suffolk"):
            BackupCodeDevice.objects.filter(user=user).delete()
            TOTPDevice.objects.filter(user=user).delete()
            User.objects.filter(pk=user.pk).update(is_active=False)
        _clear_sign_in_failures()
        forget_used_codes()


def _wrong_passwords_from_many_addresses(port: int, email: str) -> list[tuple[int, str]]:
    addresses = _addresses(PARALLEL)
    browsers = [Browser(port, "suffolk.localhost", address).open("/account/sign-in/") for address in addresses]
    results = _together(browsers, lambda b: b.post("/account/sign-in/", {"email": email, "password": WRONG}))
    answers = [(status, _page(html, email)) for status, _, html in results]
    checked = _checked([b.address for b in browsers])
    assert checked == ACCOUNT_MAX, checked  # not 30: the account-wide limit held
    wrong = [page for _, page in answers if WRONG_PASSWORD_PAGE in page]
    refused = [page for _, page in answers if NEW_DEVICES in page]
    assert len(wrong) == ACCOUNT_MAX and len(refused) == PARALLEL - ACCOUNT_MAX, answers
    assert {status for status, _ in answers} == {200}
    # The lock holds afterwards: the right password from yet another new device is refused unseen.
    newcomer = Browser(port, "suffolk.localhost", _addresses(1)[0]).open("/account/sign-in/")
    status, _, html = newcomer.post("/account/sign-in/", {"email": email, "password": PASSWORD})
    assert status == 200 and NEW_DEVICES in html
    return sorted(answers)


def test_parallel_wrong_passwords_from_many_addresses_lock_at_the_configured_count(server, rita):
    """30 new devices at once, one wrong password each, for Rita and for an address no account
    has: ACCOUNT_MAX are checked, the rest refused, and the two read the same."""
    existing = _wrong_passwords_from_many_addresses(server, rita.email)
    missing_email = f"nobody-{uuid.uuid4().hex[:8]}@suffolk.test"
    missing = _wrong_passwords_from_many_addresses(server, missing_email)
    assert existing == missing  # the same statuses and pages, in the same numbers
    # Suffolk's limit spends nothing of Norfolk's: the same address there is another account,
    # and Nina signs in from a new device.
    elsewhere = Browser(server, "norfolk.localhost", _addresses(1)[0]).open("/account/sign-in/")
    status, _, html = elsewhere.post("/account/sign-in/", {"email": missing_email, "password": WRONG})
    assert status == 200 and WRONG_PASSWORD_PAGE in html and NEW_DEVICES not in html
    nina = Browser(server, "norfolk.localhost", _addresses(1)[0]).open("/account/sign-in/")
    status, headers, _ = nina.post("/account/sign-in/", {"email": "nina@norfolk.test", "password": PASSWORD})
    assert status == 302 and headers["Location"] == "/account/two-factor/"
    with schema_context("suffolk"):
        from tenant_apps.audit.models import AuditEvent

        events = AuditEvent.objects.filter(object_id=str(rita.pk))
        assert events.filter(action="auth.sign_in_failed").count() == ACCOUNT_MAX
        assert events.filter(action="auth.locked").count() == 1
        assert events.filter(action="auth.sign_in_refused_locked").count() == PARALLEL - ACCOUNT_MAX + 1


def test_parallel_wrong_passwords_from_one_address_throttle_at_the_configured_count(server, committed_db):
    """30 wrong passwords at once from one address, each for another address tried, half on
    Suffolk and half on Norfolk: the address's one platform-wide budget lets ADDRESS_MAX through."""
    address, other = _addresses(2)
    browsers = []
    for n in range(PARALLEL):
        slug = "suffolk" if n % 2 else "norfolk"
        browser = Browser(server, f"{slug}.localhost", address).open("/account/sign-in/")
        browser.email = f"nobody-{uuid.uuid4().hex[:8]}@{slug}.test"
        browsers.append(browser)
    try:
        results = _together(browsers, lambda b: b.post("/account/sign-in/", {"email": b.email, "password": WRONG}))
        assert _checked([address]) == ADDRESS_MAX  # not 30
        pages = [html for _, _, html in results]
        assert sum(WRONG_PASSWORD_PAGE in page for page in pages) == ADDRESS_MAX, pages
        assert sum(FROM_YOUR_NETWORK in page for page in pages) == PARALLEL - ADDRESS_MAX
        assert {status for status, _, _ in results} == {200}
        # Nina's right password from that address is refused too; from another address it is not.
        there = Browser(server, "norfolk.localhost", address).open("/account/sign-in/")
        status, _, html = there.post("/account/sign-in/", {"email": "nina@norfolk.test", "password": PASSWORD})
        assert status == 200 and FROM_YOUR_NETWORK in html
        elsewhere = Browser(server, "norfolk.localhost", other).open("/account/sign-in/")
        status, headers, _ = elsewhere.post("/account/sign-in/", {"email": "nina@norfolk.test", "password": PASSWORD})
        assert status == 302 and headers["Location"] == "/account/two-factor/"
    finally:
        _clear_sign_in_failures()


def _wrong_code(email: str) -> str:
    import pyotp

    totp = pyotp.TOTP(TOTP_SECRETS[email])
    valid = {totp.at(time.time() + 30 * step) for step in range(-2, 3)}
    return next(code for code in (f"{n:06d}" for n in range(123456, 999999, 7919)) if code not in valid)


def test_parallel_wrong_codes_lock_at_the_configured_count(server, rita):
    """Rita's password is known: 30 sessions from 30 addresses each send a wrong second-factor
    code at once. ACCOUNT_MAX codes are checked; the other sessions are signed out, refused."""
    import pyotp

    browsers = []
    for address in _addresses(PARALLEL):  # one after the other: the password steps are not the race
        browser = Browser(server, "suffolk.localhost", address).open("/account/sign-in/")
        status, headers, _ = browser.post("/account/sign-in/", {"email": rita.email, "password": PASSWORD})
        assert status == 302 and headers["Location"] == "/account/two-factor/", status
        browsers.append(browser.open("/account/two-factor/"))
    code = _wrong_code(rita.email)
    results = _together(browsers, lambda b: b.post("/account/two-factor/", {"code": code}))
    assert _checked([b.address for b in browsers]) == ACCOUNT_MAX  # not 30
    kept = [html for status, _, html in results if status == 200]
    assert len(kept) == ACCOUNT_MAX and all(WRONG_CODE in html for html in kept), [s for s, _, _ in results]
    signed_out = [(b, headers) for b, (status, headers, _) in zip(browsers, results, strict=True) if status == 302]
    assert len(signed_out) == PARALLEL - ACCOUNT_MAX
    assert {headers["Location"] for _, headers in signed_out} == {"/account/sign-in/"}
    browser = signed_out[0][0]
    assert NEW_DEVICES in browser.request("GET", "/account/sign-in/")[2]  # told why
    assert browser.request("GET", "/account/two-factor/")[0] == 302  # and no longer half signed in
    # Even the right code in a session that is still open is now refused: the lock holds.
    still_open = next(b for b, (status, _, _) in zip(browsers, results, strict=True) if status == 200)
    right = pyotp.TOTP(TOTP_SECRETS[rita.email]).now()
    status, headers, _ = still_open.post("/account/two-factor/", {"code": right})
    assert status == 302 and headers["Location"] == "/account/sign-in/"
    # Norfolk is not held up: Nina signs in fully from a new device.
    nina = Browser(server, "norfolk.localhost", _addresses(1)[0]).open("/account/sign-in/")
    assert nina.post("/account/sign-in/", {"email": "nina@norfolk.test", "password": PASSWORD})[0] == 302
    nina.open("/account/two-factor/")
    nina_code = pyotp.TOTP(TOTP_SECRETS["nina@norfolk.test"]).now()
    status, headers, _ = nina.post("/account/two-factor/", {"code": nina_code})
    assert status == 302 and headers["Location"] == "/"


@pytest.fixture
def argon2_rita(rita):
    """Rita with a password hashed as production hashes it (Argon2), for a server that does too."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    from tenant_apps.accounts.models import User

    hasher = Argon2PasswordHasher()
    with schema_context("suffolk"):
        User.objects.filter(pk=rita.pk).update(password=hasher.encode(PASSWORD, hasher.salt()))
    connection.set_schema_to_public()
    return rita


def test_a_missing_account_and_an_existing_one_answer_alike_in_text_and_time(argon2_rita):
    """Under the production hasher, a wrong password for Rita and one for an address no account
    has get the same status and page in the same time: the hasher runs for the missing one too
    (its time is the hash's, not a lookup's)."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    missing_email = f"nobody-{uuid.uuid4().hex[:8]}@suffolk.test"
    port = free_port()
    env = project_env(TRUSTED_PROXIES="127.0.0.1/32", TEST_PRODUCTION_HASHERS="1")
    timings: dict[str, list[float]] = {argon2_rita.email: [], missing_email: []}
    pages: dict[str, set] = {argon2_rita.email: set(), missing_email: set()}
    rounds = 6
    addresses = iter(_addresses(2 * rounds + 2))
    with gunicorn_serving(["-m", "gunicorn"], env=env, port=port, workers=1, threads=2):
        for n in range(rounds + 1):
            pair = [argon2_rita.email, missing_email][:: 1 if n % 2 else -1]  # alternate which goes first
            for email in pair:
                browser = Browser(port, "suffolk.localhost", next(addresses)).open("/account/sign-in/")
                started = time.perf_counter()
                status, _, html = browser.post("/account/sign-in/", {"email": email, "password": WRONG})
                seconds = time.perf_counter() - started
                if n:  # the first round warms the worker up
                    timings[email].append(seconds)
                    pages[email].add((status, _page(html, email)))
    assert pages[argon2_rita.email] == pages[missing_email]
    [(status, page)] = pages[missing_email]
    assert status == 200 and WRONG_PASSWORD_PAGE in page
    existing_time, missing_time = median(timings[argon2_rita.email]), median(timings[missing_email])
    hasher = Argon2PasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    one_hash = min(_seconds(lambda: hasher.verify(WRONG, encoded)) for _ in range(3))
    assert missing_time > 0.7 * one_hash, (missing_time, one_hash)  # the missing one was hashed too
    assert 1 / 2 < existing_time / missing_time < 2, (existing_time, missing_time)
    print(f"median {existing_time:.3f} s existing, {missing_time:.3f} s missing, one hash {one_hash:.3f} s")


def _seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# --- The charge's bookkeeping, in-process (rolled back) -------------------------------------


def _charged(key: str) -> list:
    from tenant_apps.accounts.models import SignInLimit

    with schema_context("public"):
        row = SignInLimit.objects.filter(key=key).first()
    connection.set_schema_to_public()
    return row.failures if row is not None else []


def test_a_success_releases_its_charge_and_a_full_sign_in_forgets_its_own_failures(db, settings):
    """A right password is no failure: it leaves the address's count as it was. A full sign-in
    forgets that source's own failures in the address's and the account's limits, and nothing
    else's (the stranger's failures on the same address stay counted)."""
    from django.test import Client

    from tests.conftest import sign_in

    settings.SIGN_IN_IP_MAX_FAILURES = 4
    address = "198.51.100.201"
    office = Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR=address)
    office.post("/account/sign-in/", {"email": "nobody@suffolk.test", "password": WRONG})  # a stranger's
    for _ in range(2):
        office.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": WRONG})
    assert len(_charged(f"address:{address}")) == 3
    sign_in(office, "bob@suffolk.test")  # password (charged, then released), then the code
    assert len(_charged(f"address:{address}")) == 1  # Bob's two are forgotten, the stranger's is not
    office.post("/account/sign-out/")
    for n in range(3):  # so three more are checked before the address waits
        answer = office.post("/account/sign-in/", {"email": f"nobody{n}@suffolk.test", "password": WRONG})
        assert WRONG_PASSWORD_PAGE.encode() in answer.content
    newcomer = Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR=address)  # the office's cookie is trusted
    answer = newcomer.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    assert FROM_YOUR_NETWORK.encode() in answer.content
    assert len(_charged(f"address:{address}")) == 4  # the refusal released its charge


def test_a_release_removes_one_entry_per_timestamp_given(db):
    """Two charges made in the same microsecond are still two: releasing one leaves the other."""
    from datetime import timedelta

    from django.utils import timezone

    from tenant_apps.accounts import limits
    from tenant_apps.accounts.models import SignInLimit

    at = timezone.now().replace(microsecond=123456)
    with schema_context("public"):
        SignInLimit.objects.create(key="address:198.51.100.202", failures=[at - timedelta(seconds=1), at, at])
        limits.release_in_public(["address:198.51.100.202"], [at])
        assert SignInLimit.objects.get(key="address:198.51.100.202").failures == [at - timedelta(seconds=1), at]
        limits.release_in_public(["address:198.51.100.202"], [at, at])  # one left to remove: it goes, once
        assert SignInLimit.objects.get(key="address:198.51.100.202").failures == [at - timedelta(seconds=1)]
        # A row charged nothing for longer than every window is forgotten as we go; others stay.
        SignInLimit.objects.create(key="address:198.51.100.203", failures=[at], charged_at=at - timedelta(hours=2))
        limits.forget_idle_in_public(seconds=3600)
        assert set(
            SignInLimit.objects.filter(key__startswith="address:198.51.100.20").values_list("key", flat=True)
        ) == {"address:198.51.100.202"}
    connection.set_schema_to_public()
