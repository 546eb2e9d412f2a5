"""Helpers for the tests that walk every operation of the OpenAPI schema (tests/test_api_bad_input.py,
tests/test_schemathesis.py): the schema read in-process through drf-spectacular's generator, one
real record behind every path parameter, and a signed-in session for a client outside Django's.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.conftest import sign_in

METHODS = ("get", "put", "post", "patch", "delete")
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def openapi_schema() -> dict:
    """The schema a partnership host serves, generated in-process (no HTTP, no sign-in)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator(urlconf="concord.urls_partnership").get_schema(request=None, public=True)


def operations(schema: dict):
    """``(path, method, operation)`` for every operation of the schema."""
    for path, item in sorted(schema["paths"].items()):
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def make_records(cast, *, with_document: bool = False) -> dict:
    """One of everything an API path names, owned by Bob (ASB Team) in Suffolk."""
    from tenant_apps.casework import services
    from tenant_apps.casework.models import CaseType
    from tenant_apps.tasks import services as task_services

    bob = cast["bob"]
    with schema_context("suffolk"):
        profile = services.profile_create(user=bob, owning_team=cast["asb"], first_name="Kyle", last_name="Brennan",
                                          date_of_birth=dt.date(2001, 5, 17))  # fmt: skip
        other = services.profile_create(user=bob, owning_team=cast["asb"], first_name="Kai", last_name="Brennan")
        case = services.case_create(user=bob, case_type=CaseType.objects.get(code="ASB"), title="Noise, Mill Lane",
                                    owning_team=cast["asb"], subjects=[(profile, "perpetrator")])  # fmt: skip
        entry = services.entry_create(user=bob, case=case, kind="visit", summary="Home visit",
                                      occurred_at=timezone.now() - dt.timedelta(hours=1))  # fmt: skip
        version = lambda: type(profile).objects.get(pk=profile.pk).version  # noqa: E731 - read afresh each time
        items = {
            "addresses": services.address_add(
                user=bob, profile=profile, version=version(), line1="1 Mill Lane", postcode="IP1 1AA"
            ),  # fmt: skip
            "aliases": services.alias_add(user=bob, profile=profile, version=version(), name="Kaz"),
            "identifiers": services.identifier_add(
                user=bob, profile=profile, version=version(), kind="pnc", value="01/123456A"
            ),  # fmt: skip
            "warnings": services.warning_add(user=bob, profile=profile, version=version(), kind="dogs"),
            "vulnerabilities": services.vulnerability_add(
                user=bob, profile=profile, version=version(), kind="substance"
            ),  # fmt: skip
        }
        case_share = services.share_grant(user=bob, case=case, team=cast["cst"])
        profile_share = services.share_grant(user=bob, profile=profile, team=cast["cst"])
        family = services.family_create(user=bob, name="Brennan family", owning_team=cast["asb"])
        member = services.family_add_member(user=bob, family=family, profile=other, relationship="sibling")
        task = task_services.task_create(user=bob, title="Check CCTV", due_date=timezone.localdate() + dt.timedelta(7),
                                         case=case, assigned_team=cast["snt"])  # fmt: skip
        from shared_apps.question_bank.models import QuestionVersion
        from tenant_apps.assessments import services as assessment_services

        template = assessment_services.template_create(user=bob, name="Home check", business_area="asb")
        section = assessment_services.template_section_add(user=bob, draft=template.versions.get(), title="Home")
        assessment_services.template_item_add(
            user=bob, section=section, bank_version=QuestionVersion.objects.get(question__code="HOU-01")
        )
        assessment_services.template_publish(user=bob, draft=template.versions.get())
        template.refresh_from_db()
        assessment = assessment_services.assessment_start(user=bob, template=template, family=family)
        document = None
        if with_document:
            from tenant_apps.documents.services import document_store

            document = document_store(request_or_user=bob, attached_to_type="timeline_entry", attached_to_id=entry.pk,
                                      file=SimpleUploadedFile("report.pdf", PDF_BYTES, "application/pdf"))  # fmt: skip
    return {"profile": profile, "case": case, "entry": entry, "items": items, "case_share": case_share,
            "profile_share": profile_share, "family": family, "member": member, "task": task,
            "document": document, "template": template, "assessment": assessment}  # fmt: skip


def path_ids(path: str, records: dict) -> dict:
    """A real id for each parameter of ``path`` (``/api/v1/profiles/{profile_id}/aliases/{item_id}/``)."""
    ids = {
        "profile_id": records["profile"].pk,
        "case_id": records["case"].pk,
        "entry_id": records["entry"].pk,
        "family_id": records["family"].pk,
        "member_id": records["member"].pk,
        "task_id": records["task"].pk,
        "share_id": (records["case_share"] if path.startswith("/api/v1/cases/") else records["profile_share"]).pk,
        "template_id": records["template"].pk,
        "assessment_id": records["assessment"].pk,
        "code": "HOU-01",  # a national question
    }
    if records["document"] is not None:
        ids["document_id"] = str(records["document"].pk)
    for plural, item in records["items"].items():
        if f"/{plural}/" in path:
            ids["item_id"] = item.pk
    return {name: value for name, value in ids.items() if "{" + name + "}" in path}


def fill(path: str, ids: dict) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def signed_in(slug: str, email: str) -> Client:
    client = Client(HTTP_HOST=f"{slug}.localhost")
    sign_in(client, email)
    return client
