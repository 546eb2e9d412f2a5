"""The attack suite's parts (tests/test_attack_suite.py): canaries
planted in records nobody attacking may see, the table that fills every URL parameter from
them, the requests generated for every route of both URLconfs and every operation of the
OpenAPI schema, and a checksum of the tables a refused write must leave alone.

Canaries are unique random markers: ``NORFOLK`` ones in Norfolk's records (no Suffolk identity
may ever see them), ``SUFFOLK`` ones in Bob's ASB Team's records (Dan of another agency may not
see them), and ``SENSITIVE`` ones in an entry of Bob's restricted to the ASB Team and in the
document attached to it (Carl of the same agency, another team, may not see them).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from dataclasses import dataclass, field

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp_webauthn.models import WebAuthnCredential
from django_tenants.utils import schema_context

from tests.api_input_helpers import openapi_schema, operations
from tests.conftest import PASSWORD, TOTP_SECRETS, enrol_authenticator

URLCONFS = {"partnership": "concord.urls_partnership", "platform": "concord.urls_public"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WRITES = ("post", "put", "patch", "delete")
# Apps whose tables a refused write must leave as they were (the audit trail, read counters,
# sign-in counters and the outbox are meant to record refusals: not checked).
CHECKED_APPS = ("casework", "documents", "tasks", "directory", "assessments", "django_otp_webauthn")


def canary(tier: str) -> str:
    return f"CANARY{tier}{secrets.token_hex(6).upper()}"


@dataclass
class Planted:
    """What the fixture planted: ids per partnership, canaries per tier."""

    ids: dict[str, dict] = field(default_factory=dict)  # schema -> parameter values
    canaries: dict[str, list[str]] = field(default_factory=dict)  # tier -> markers

    def tiers(self, *names: str) -> list[str]:
        return [marker for name in names for marker in self.canaries[name]]


def _records(user, team, tier: str, sensitive_tier: str, planted: Planted, *, grantee) -> dict:
    """One of each record a URL names, owned by ``user``'s ``team``, each carrying a canary."""
    from shared_apps.question_bank.services import submission_create_for_partnership
    from tenant_apps.assessments import services as template_services
    from tenant_apps.casework import services
    from tenant_apps.casework.models import CaseType
    from tenant_apps.documents.services import document_store
    from tenant_apps.tasks import services as task_services

    def mark(which: str = tier) -> str:
        marker = canary(which)
        planted.canaries.setdefault(which, []).append(marker)
        return marker

    user.__dict__.pop("_casework_scope", None)
    profile = services.profile_create(user=user, owning_team=team, first_name=mark(), last_name="Brennan",
                                      notes=mark(), date_of_birth=dt.date(2001, 5, 17))  # fmt: skip
    other = services.profile_create(user=user, owning_team=team, first_name=mark(), last_name="Brennan")
    case_type = CaseType.objects.get(code="ASB")
    case = services.case_create(user=user, case_type=case_type, title=mark(), summary=mark(), owning_team=team,
                                subjects=[(profile, "perpetrator")])  # fmt: skip
    occurred = timezone.now() - dt.timedelta(hours=1)
    services.entry_create(user=user, case=case, kind="visit", summary=mark(), body=mark(), occurred_at=occurred)
    sensitive = services.entry_create(user=user, case=case, kind="note", summary=mark(sensitive_tier),
                                      body=mark(sensitive_tier), is_sensitive=True, restricted_to_teams=[team],
                                      occurred_at=occurred)  # fmt: skip
    name, content = mark(sensitive_tier), mark(sensitive_tier)
    upload = SimpleUploadedFile(f"{name}.pdf", PDF + content.encode(), "application/pdf")
    document = document_store(request_or_user=user, attached_to_type="timeline_entry", attached_to_id=sensitive.pk,
                              file=upload)  # fmt: skip
    version = lambda: type(profile).objects.get(pk=profile.pk).version  # noqa: E731 - read afresh each time
    items = {
        "addresses": services.address_add(
            user=user, profile=profile, version=version(), line1=mark(), postcode="IP1 1AA"
        ),  # fmt: skip
        "aliases": services.alias_add(user=user, profile=profile, version=version(), name=mark()),
        "identifiers": services.identifier_add(
            user=user, profile=profile, version=version(), kind="other", value=mark()
        ),  # fmt: skip
        "warnings": services.warning_add(user=user, profile=profile, version=version(), kind="dogs", note=mark()),
        "vulnerabilities": services.vulnerability_add(
            user=user, profile=profile, version=version(), kind="substance", note=mark()
        ),  # fmt: skip
    }
    case_share = services.share_grant(user=user, case=case, grantee=grantee)
    profile_share = services.share_grant(user=user, profile=profile, grantee=grantee)
    family = services.family_create(user=user, name=mark(), owning_team=team)
    member = services.family_add_member(user=user, family=family, profile=other, relationship="sibling")
    task = task_services.task_create(user=user, title=mark(), details=mark(), case=case, assigned_team=team,
                                     due_date=timezone.localdate() + dt.timedelta(days=7))  # fmt: skip
    # A draft question for the national bank, its wording a canary: the partnership's admins' only.
    submission = submission_create_for_partnership(
        schema_name=connection.schema_name,
        content={
            "wording": mark(),
            "answer_type": "text",
            "nature": "objective",
            "domain": "housing",
            "guidance": mark(),
        },
    )
    # A template with a section, a question and a domain, and a local question: every member of
    # their partnership reads them, so only the other partnership's carry a canary.
    shared = mark() if tier == "NORFOLK" else "Partnership-wide"
    template = template_services.template_create(user=user, name=f"Template {shared}", business_area="asb")
    draft = template.versions.get()
    section = template_services.template_section_add(user=user, draft=draft, title=f"Section {shared}")
    local = template_services.local_question_create(
        user=user,
        content={"wording": f"Local {shared}?", "answer_type": "yes_no", "nature": "objective", "domain": "housing"},
    )
    template_item = template_services.template_item_add(user=user, section=section,
                                                        local_version=local.versions.get())  # fmt: skip
    domain = template_services.template_domain_add(user=user, draft=draft, name=f"Domain {shared}", aggregate="sum")
    in_use = template_services.template_create(user=user, name=f"In use {shared}", business_area="asb")
    in_use_section = template_services.template_section_add(user=user, draft=in_use.versions.get(), title="Home")
    template_services.template_item_add(user=user, section=in_use_section, local_version=local.versions.get(),
                                        asked_of="each_member")  # fmt: skip
    template_services.template_publish(user=user, draft=in_use.versions.get())
    in_use.refresh_from_db()
    # An assessment of the family: its pages name the family (a canary) and its members.
    assessment = template_services.assessment_start(user=user, template=in_use, family=family)
    # A passkey of the user's, its name a canary: only its owner's security page may show it.
    passkey = WebAuthnCredential.objects.create(user=user, name=mark(), credential_id=secrets.token_bytes(32),
                                                public_key=b"\xa0", aaguid=str(uuid.UUID(int=0)))  # fmt: skip
    return {
        "profile_id": profile.pk, "case_id": case.pk, "entry_id": sensitive.pk, "family_id": family.pk,
        "member_id": member.pk, "task_id": task.pk, "document_id": str(document.pk),
        "case_share_id": case_share.pk, "profile_share_id": profile_share.pk,
        "items": {kind: item.pk for kind, item in items.items()},
        "case_type_id": case_type.pk, "user_id": user.pk, "agency_id": team.agency_id, "team_id": team.pk,
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "passkey_id": passkey.pk,
        "submission_id": submission.pk, "template_id": template.pk, "section_id": section.pk,
        "template_item_id": template_item.pk, "domain_id": domain.pk, "local_question_id": local.pk,
        "assessment_id": assessment.pk,
    }  # fmt: skip


def plant(cast) -> Planted:
    """Canaries in Bob's (Suffolk, ASB Team) records and in Norfolk's (Norman, Norfolk's practitioner)."""
    from tenant_apps.accounts.models import ReadLimits, User
    from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership

    planted = Planted()
    with schema_context("suffolk"):
        planted.ids["suffolk"] = _records(cast["bob"], cast["asb"], "SUFFOLK", "SENSITIVE", planted,
                                          grantee=cast["vera"])  # fmt: skip
    with schema_context("norfolk"):
        agency = Agency.objects.create(name="County Council", kind="council")
        team = Team.objects.create(agency=agency, name="Norfolk ASB Team")
        norman = User.objects.create_user("norman@norfolk.test", password=PASSWORD, full_name="Norman",
                                          role="practitioner")  # fmt: skip
        helper = User.objects.create_user("nora@norfolk.test", password=PASSWORD, full_name="Nora", role="viewer")
        TOTP_SECRETS[norman.email] = enrol_authenticator(norman)
        for person in (norman, helper):
            Membership.objects.create(user=person, agency=agency)
            TeamMembership.objects.create(user=person, team=team)
        planted.ids["norfolk"] = _records(norman, team, "NORFOLK", "NORFOLK", planted, grantee=helper)
    # The suite reads every record many times a minute: the partnership's read limits (its own
    # rows, rolled back with the test) must not turn the suite's reads into refusals.
    for schema in ("suffolk", "norfolk"):
        with schema_context(schema):
            ReadLimits.objects.all().delete()
            ReadLimits.objects.create(reads_per_minute=100_000, searches_per_minute=100_000,
                                      downloads_per_minute=100_000, partnership_per_minute=10_000_000,
                                      alert_profiles=100_000)  # fmt: skip
    connection.set_schema_to_public()
    return planted


# --- The parameter table: every URL parameter the generator knows how to fill. -----------------


def _share(route: str, ids: dict) -> int:
    return ids["case_share_id"] if "cases/" in route else ids["profile_share_id"]


def _item(route: str, ids: dict) -> int:
    for kind, pk in ids["items"].items():
        if f"/{kind}/" in route:
            return pk
    return ids["items"][DETAIL_KIND]  # pages: profiles/<id>/details/<kind>/<item_id>/remove/


DETAIL_KIND = "addresses"
PARAMETERS = {
    "profile_id": lambda route, ids: ids["profile_id"],
    "case_id": lambda route, ids: ids["case_id"],
    "entry_id": lambda route, ids: ids["entry_id"],
    "family_id": lambda route, ids: ids["family_id"],
    "member_id": lambda route, ids: ids["member_id"],
    "task_id": lambda route, ids: ids["task_id"],
    "document_id": lambda route, ids: ids["document_id"],
    "share_id": _share,
    "item_id": _item,
    "kind": lambda route, ids: DETAIL_KIND,
    "case_type_id": lambda route, ids: ids["case_type_id"],
    "user_id": lambda route, ids: ids["user_id"],
    "agency_id": lambda route, ids: ids["agency_id"],
    "team_id": lambda route, ids: ids["team_id"],
    "client_id": lambda route, ids: 1,  # an API client's id: admin pages only, refused to every identity here
    "uidb64": lambda route, ids: ids["uidb64"],
    "token": lambda route, ids: "c0ffee-" + "0" * 32,  # an enrolment / reset / not-me token nobody issued
    "slug": lambda route, ids: ids["slug"],  # the platform's operator pages: a partnership's slug
    "passkey_id": lambda route, ids: ids["passkey_id"],  # the records' owner's passkey (a canary name)
    "submission_id": lambda route, ids: ids["submission_id"],  # a draft for the national bank (admins only)
    "code": lambda route, ids: "HOU-01",  # a national question: every partnership reads the bank
    "template_id": lambda route, ids: ids["template_id"],
    "section_id": lambda route, ids: ids["section_id"],
    "template_item_id": lambda route, ids: ids["template_item_id"],
    "domain_id": lambda route, ids: ids["domain_id"],
    "number": lambda route, ids: 1,  # a template's version
    "local_question_id": lambda route, ids: ids["local_question_id"],
    "assessment_id": lambda route, ids: ids["assessment_id"],
}
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


class UnknownParameter(Exception):
    """A route names a parameter the table cannot fill: teach ``PARAMETERS`` (no endpoint escapes)."""


def walk(urlconf: str) -> list[str]:
    """Every route of a URLconf, as its full pattern text (``profiles/<int:profile_id>/``)."""

    def inner(resolver, prefix):
        for pattern in resolver.url_patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from inner(pattern, text)
            elif isinstance(pattern, URLPattern):
                yield text

    return list(inner(get_resolver(urlconf), ""))


def fill(route: str, ids: dict) -> str:
    def value(match):
        name = match.group(2)
        if name not in PARAMETERS:
            raise UnknownParameter(f"{route}: no value for <{name}>; teach tests/attack_helpers.PARAMETERS")
        return str(PARAMETERS[name](route, ids))

    if any(mark in route for mark in ("^", "(?P")):
        raise UnknownParameter(f"{route}: a regular-expression route; teach the generator")
    return "/" + PARAMETER.sub(value, route)


def schema_path(route: str) -> str:
    """``api/v1/profiles/<int:profile_id>/`` as the OpenAPI schema writes it."""
    return "/" + PARAMETER.sub(lambda m: "{" + m.group(2) + "}", route)


def schema_methods() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path, method, _ in operations(openapi_schema()):
        found.setdefault(path, set()).add(method)
    return found


def names_a_record(route: str) -> bool:
    return bool(PARAMETER.search(route))


# --- Plausible bodies for writes. ---------------------------------------------------------------


def body(ids: dict) -> dict:
    """A plausible body for any write: every field a form or serializer of the project might read."""
    soon = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    return {
        "first_name": "Mallory", "last_name": "Attack", "name": "Attack", "title": "Attack", "summary": "Attack",
        "body": "Attack", "details": "Attack", "text": "Attack", "notes": "Attack", "reason": "Attack",
        "kind": "visit", "status": "closed", "role": "admin", "relationship": "sibling", "version": 1,
        "due_date": soon, "occurred_at": timezone.now().isoformat(), "opened_on": soon, "line1": "1 Attack Road",
        "postcode": "IP1 1AA", "value": "01/999999Z", "email": "mallory@attack.test", "full_name": "Mallory",
        "profile": ids["profile_id"], "profile_id": ids["profile_id"], "case": ids["case_id"],
        "team": ids["team_id"], "agency": ids["agency_id"], "grantee": ids["user_id"], "confirm": "yes",
        "case_type": ids["case_type_id"], "code": "ATTACK",
    }  # fmt: skip


# --- The checksum of what a refused write must not change. --------------------------------------


def checked_tables() -> list[str]:
    tables = [model._meta.db_table for label in CHECKED_APPS for model in apps.get_app_config(label).get_models()]
    from tenant_apps.accounts.models import User

    return sorted(set(tables) | {User._meta.db_table})


def checksum_sql() -> str:
    """One query: each checked table of both partnerships, its row count and a hash of its rows."""
    parts = [
        f"SELECT '{schema}.{table}', count(*), coalesce(sum(hashtext(t::text)::bigint), 0) "
        f'FROM "{schema}"."{table}" t'
        for schema in ("suffolk", "norfolk")
        for table in checked_tables()
    ]
    return " UNION ALL ".join(parts)


def checksum(sql: str) -> dict[str, tuple[int, int]]:
    from concord.db_roles import owner_mode

    with owner_mode(), connection.cursor() as cursor:  # both partnerships' tables: the owner reads them
        cursor.execute(sql)
        return {name: (count, digest) for name, count, digest in cursor.fetchall()}
