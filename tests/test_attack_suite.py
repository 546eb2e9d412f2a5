"""The attack suite, by construction (issue 11, point 5).

Every route of both URLconfs (walked from the resolver) and every operation of the OpenAPI
schema is asked by every identity that must not reach the planted records
(tests/attack_helpers.py): anonymous; Bob after his password only; Vera the viewer (writes);
Carl of another team; Dan of another agency; Nina, Norfolk's admin, on Suffolk's host; Bob's
verified cookie replayed on Norfolk's host and on the platform's; Bob's cookie replayed after he
signed out. Path parameters come from one table (``attack_helpers.PARAMETERS``): a route naming a
parameter it does not know fails ``test_every_endpoint_is_covered_by_the_generator``.

- A response leaks if a canary the identity must not see is in its body or any header
  (``Location`` too). No request answers 5xx.
- A write by an identity that may not make it changes nothing: a checksum of every casework,
  documents, tasks and directory table and of the users of both partnerships, after each write,
  equals the one before the first.

The counts (routes x identities, requests) are printed (``-s``, or in the captured output).
In-process (Django's test client), in the test's transaction: a few seconds.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests import attack_helpers as attack
from tests.conftest import PASSWORD, sign_in
from tests.test_casework_pages import client_as

SUFFOLK, NORFOLK, PLATFORM = "suffolk.localhost", "norfolk.localhost", "localhost"


def _copy(cookies, host: str) -> Client:
    client = Client(HTTP_HOST=host)
    for name, morsel in cookies.items():
        client.cookies[name] = morsel.value
    return client


def _forget_codes(email: str, schema: str = "suffolk") -> None:
    from tenant_apps.accounts.models import TOTPDevice

    with schema_context(schema):
        TOTPDevice.objects.filter(user__email=email).update(last_t=-1)


@pytest.fixture
def planted(cast, s3):
    return attack.plant(cast)


@pytest.fixture
def identities(cast, planted):
    """``name -> (client, urlconf, ids, forbidden canaries, may write)``: every attacker of the suite."""
    everything = planted.tiers("SUFFOLK", "SENSITIVE", "NORFOLK")
    suffolk_ids = planted.ids["suffolk"] | {"slug": "suffolk"}
    norfolk_ids = planted.ids["norfolk"] | {"slug": "norfolk"}

    password_only = Client(HTTP_HOST=SUFFOLK)
    first = password_only.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    assert first.status_code == 302 and first["Location"] == "/account/two-factor/"
    nina = Client(HTTP_HOST=NORFOLK)
    sign_in(nina, "nina@norfolk.test")
    bob = client_as(cast, "bob")
    _forget_codes("bob@suffolk.test")
    leaving = client_as(cast, "bob")
    replayed_after_sign_out = _copy(leaving.cookies, SUFFOLK)
    assert leaving.post("/account/sign-out/").status_code == 302
    # Identity: (client, which URLconf its host serves, ids to ask for, canaries it must not see,
    # which writes it must be refused: "all", "records" (routes naming a record) or "entry").
    return {
        "anonymous": (Client(HTTP_HOST=SUFFOLK), "partnership", suffolk_ids, everything, "all"),
        "password only": (password_only, "partnership", suffolk_ids, everything, "all"),
        "viewer": (client_as(cast, "vera"), "partnership", suffolk_ids, planted.tiers("NORFOLK"), "all"),
        "other team": (client_as(cast, "carl"), "partnership", suffolk_ids,
                       planted.tiers("SENSITIVE", "NORFOLK"), "entry"),
        "other agency": (client_as(cast, "dan"), "partnership", suffolk_ids, everything, "records"),
        "Nina on Suffolk's host": (_copy(nina.cookies, SUFFOLK), "partnership", suffolk_ids, everything, "all"),
        "Bob's cookie on Norfolk's host": (_copy(bob.cookies, NORFOLK), "partnership", norfolk_ids, everything,
                                           "all"),
        "Bob's cookie on the platform": (_copy(bob.cookies, PLATFORM), "platform", norfolk_ids, everything, "all"),
        "Bob's cookie after sign-out": (replayed_after_sign_out, "partnership", suffolk_ids, everything, "all"),
    }  # fmt: skip


def _refused_write(scope: str, route: str) -> bool:
    """Whether the identity's write on this route must be refused (else it is not attempted)."""
    if route.startswith("account/"):  # one's own account (sign-in, sign-out, password): not an attack
        return scope == "all"
    if scope == "all":
        return True
    if scope == "records":
        return attack.names_a_record(route)
    return "<int:entry_id>" in route or "<uuid:document_id>" in route


def requests_for(identities: dict) -> list[tuple[str, str, str, str, dict | None]]:
    """``(identity, method, route, url, body)`` for every route of each identity's URLconf: a GET for
    each; each write the schema lists for an API route, a POST for a page. Signing out comes last."""
    methods = attack.schema_methods()
    generated = []
    for name, (_, urlconf, ids, _, scope) in identities.items():
        for route in attack.walk(attack.URLCONFS[urlconf]):
            url = attack.fill(route, ids)
            generated.append((name, "get", route, url, None))
            if route.startswith("api/") and urlconf == "partnership":
                writes = sorted(methods.get(attack.schema_path(route), set()) & set(attack.WRITES))
            else:
                writes = ["post"]
            if _refused_write(scope, route):
                generated += [(name, method, route, url, attack.body(ids)) for method in writes]
    return sorted(generated, key=lambda request: ("sign-out" in request[2], request[1] != "get"))


def _content(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _send(client: Client, method: str, route: str, url: str, data: dict | None):
    if method == "get":
        return client.get(url)
    if route.startswith("api/"):
        return getattr(client, method)(url, data, content_type="application/json")
    return client.post(url, data)


def test_every_endpoint_is_covered_by_the_generator(cast, planted):
    """Each route of both URLconfs is filled from the table, each schema operation is a walked route,
    and a route the table cannot fill fails: no endpoint escapes."""
    ids = planted.ids["suffolk"] | {"slug": "suffolk"}
    partnership = attack.walk(attack.URLCONFS["partnership"])
    platform = attack.walk(attack.URLCONFS["platform"])
    for route in partnership + platform:
        assert attack.fill(route, ids).startswith("/"), route
    walked = {attack.schema_path(route) for route in partnership}
    schema = attack.schema_methods()
    assert set(schema) <= walked, set(schema) - walked
    # And every API route is an operation of the schema (its writes come from there).
    api = {attack.schema_path(route) for route in partnership if route.startswith("api/v1/")}
    assert api <= set(schema), api - set(schema)
    assert len(partnership) > 100 and len(platform) > 15 and sum(map(len, schema.values())) > 50
    with pytest.raises(attack.UnknownParameter, match="<widget_id>"):
        attack.fill("widgets/<int:widget_id>/", ids)


def _attack(identities, *, writes: bool) -> None:
    """Every generated read (or write): none leaks, none answers 5xx; each write (to be refused)
    leaves every checked table as it was."""
    requests = [request for request in requests_for(identities) if (request[1] != "get") == writes]
    sql = attack.checksum_sql()
    before = attack.checksum(sql)
    leaks, changed, errors, statuses = [], [], [], {}
    started = time.monotonic()
    for name, method, route, url, data in requests:
        client, _, _, forbidden, _ = identities[name]
        response = _send(client, method, route, url, data)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        where = f"{name}: {method.upper()} {url}"
        if response.status_code >= 500:
            errors.append(f"{where} answered {response.status_code}")
        seen = _content(response) + "\n".join(f"{k}: {v}" for k, v in response.items()).encode()
        leaks += [f"{where} shows {marker}" for marker in forbidden if marker.encode() in seen]
        if method != "get":
            after = attack.checksum(sql)
            if after != before:
                changed.append(f"{where} changed {sorted(t for t in after if after[t] != before.get(t))}")
                before = after  # report each change once
    elapsed = time.monotonic() - started
    routes = {(identities[name][1], route) for name, _, route, _, _ in requests}
    kind = "writes" if writes else "reads"
    print(f"\nattack suite, {kind}: {len(routes)} routes x {len(identities)} identities, "
          f"{len(requests)} requests in {elapsed:.1f} s; "
          f"answers by status: {dict(sorted(statuses.items()))}")  # fmt: skip
    assert not errors, "\n".join(errors)
    assert not leaks, "\n".join(leaks)
    assert not changed, "\n".join(changed)
    assert len(requests) > 700
    assert not writes or len({request[2] for request in requests}) > 100


def test_no_identity_reads_a_canary_on_any_endpoint(identities):
    _attack(identities, writes=False)


def test_refused_writes_change_nothing(identities):
    """Every write of every identity that may not make it: no canary in its answer, no 5xx, and
    no checked table changed."""
    _attack(identities, writes=True)


def test_the_checksum_sees_a_write(cast, planted):
    """The checksum the writes are compared by sees a change: a profile Bob makes."""
    from tenant_apps.casework import services

    sql = attack.checksum_sql()
    before = attack.checksum(sql)
    with schema_context("suffolk"):
        services.profile_create(user=cast["bob"], owning_team=cast["asb"], first_name="Kai", last_name="Brennan")
    after = attack.checksum(sql)
    assert [table for table in after if after[table] != before[table]] == ["suffolk.casework_profile"]


def test_the_canaries_are_where_the_suite_looks_for_them(cast, planted):
    """The suite can see a leak: Bob reads his own canaries (sensitive ones too) and Nina hers."""
    bob = client_as(cast, "bob")
    ids = planted.ids["suffolk"]
    case_page = bob.get(f"/cases/{ids['case_id']}/").content.decode()
    assert sum(marker in case_page for marker in planted.tiers("SUFFOLK", "SENSITIVE")) >= 3
    entry = bob.get(f"/api/v1/entries/{ids['entry_id']}/").content.decode()
    assert all(marker in entry for marker in planted.tiers("SENSITIVE")[:2])
    download = bob.get(f"/documents/{ids['document_id']}/download/")
    seen = _content(download) + str(download.items()).encode()
    assert any(marker.encode() in seen for marker in planted.tiers("SENSITIVE")[2:]), download.status_code
