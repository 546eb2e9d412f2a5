"""Pages of casework: profiles, cases, the timeline, sharing and the gallery.

Each view parses a form, calls one selector or service, and redirects after a
successful POST (with a success banner) or re-renders the form with its errors
named by field. Ids in URLs are resolved by the ``access_*`` selectors, which
give the same 404 for "does not exist" and "not yours"; a viewer (read-only
role) gets the 403 page on every form before anything is read or written, and
the services check again (fail closed).
"""

from __future__ import annotations

import functools
import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.db.models.query import prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenant_apps.casework import selectors, services, timeline_html
from tenant_apps.casework.forms import (
    CaseCreateForm,
    CaseFilterForm,
    CaseStatusForm,
    DuplicateCheckForm,
    EntryCreateForm,
    EntryDeleteForm,
    EntryEditForm,
    GalleryFilterForm,
    ProfileCreateForm,
    ProfileEditForm,
    ProfileFilterForm,
    ProfileMergeForm,
    ProfilePhotoForm,
    ShareForm,
    TimelineFilterForm,
    sharing_terms,
)
from tenant_apps.casework.idempotency import create_once
from tenant_apps.casework.models import (
    Case,
    CaseSubject,
    CaseType,
    FamilyMember,
    Profile,
    ProfileAlias,
    TimelineEntry,
)
from tenant_apps.casework.paging import CountedPaginator
from tenant_apps.documents.models import Document
from tenant_apps.documents.services import STORAGE_ERRORS, StorageUnavailable, document_store, documents_storage

logger = logging.getLogger(__name__)

PER_PAGE = 25
GALLERY_PER_PAGE = 24
GET_POST = require_http_methods(["GET", "POST"])
CONTACT_KINDS = [
    TimelineEntry.Kind.CONTACT,
    TimelineEntry.Kind.VISIT,
    TimelineEntry.Kind.PHONE_CALL,
    TimelineEntry.Kind.MEETING,
]


ENTRY_DOCUMENTS = "timeline_entry"
PROFILE_PHOTO = "profile_photo"
_NOT_ANNOTATED = object()


def latest_photo_id(profile_id):
    """Subquery: the id of the newest stored photo of ``profile_id`` (an ``OuterRef`` or a pk)."""
    profile_id = Cast(profile_id, CharField()) if isinstance(profile_id, OuterRef) else str(profile_id)
    return (
        Document.objects.filter(attached_to_type=PROFILE_PHOTO, attached_to_id=profile_id,
                                status=Document.Status.STORED, is_image=True)
        .order_by("-uploaded_at", "-pk")
        .values("pk")[:1]
    )  # fmt: skip


def profile_photo_url(profile: Profile) -> str | None:
    """The URL of the profile's current photo (its newest stored one), or None for the silhouette.

    The image is served through the application (``/documents/<uuid>/image/``): the page's
    CSP allows images from 'self' only, and the view checks access on every request.
    Lists annotate ``photo_document_id`` (``latest_photo_id``) so that this costs no query;
    otherwise it is one query. Documents live in partnership schemas only.
    """
    photo_id = getattr(profile, "photo_document_id", _NOT_ANNOTATED)
    if photo_id is _NOT_ANNOTATED:
        if connection.schema_name == "public":
            return None
        row = next(iter(latest_photo_id(profile.pk)), None)
        photo_id = row["pk"] if row else None
    return reverse("documents:image", kwargs={"document_id": photo_id}) if photo_id else None


# --- Helpers ---------------------------------------------------------------------------------

SHARE_ERROR_FIELDS = {"grantee": "team", "can_edit": "access", "can_share": "share_on"}  # service -> share form


def forbidden(request):
    return render(request, "casework/403.html", status=403)


def writers_only(view):
    """Viewers (read-only) get the 403 page before the view reads anything; so does a
    refusal from a service (``PermissionDenied``)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_read_only:
            return forbidden(request)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            return forbidden(request)

    return wrapped


def _posted(request):
    return request.POST if request.method == "POST" else None


def _apply_errors(form: forms.Form, error: ValidationError, rename: dict | None = None) -> None:
    """Put a service's errors on the form: on the field they name, else on the whole form."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            field = rename.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _filter_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _my_teams(user):
    """The user's own teams: where new records they make may belong."""
    from tenant_apps.directory.models import Team

    return Team.objects.filter(team_memberships__user=user).select_related("agency").order_by("agency__name", "name")


def _all_teams():
    """Every team of the partnership (names of teams are not personal data)."""
    from tenant_apps.directory.models import Team

    return Team.objects.select_related("agency").order_by("agency__name", "name")


def _case_types():
    return CaseType.objects.filter(is_active=True).order_by("name")


def _may_edit_profile(user, profile: Profile) -> bool:
    return selectors.profiles_visible_to(user, edit=True).filter(pk=profile.pk).exists()


def _families_of(user, profile: Profile):
    """The profile's families that the user's team or agency owns (families are not shared)."""
    scope = selectors.user_scope(user)
    owned = Q(family__owning_team_id__in=scope.team_ids)
    if scope.agency_id is not None:
        owned |= Q(family__owning_agency_id=scope.agency_id)
    members = FamilyMember.objects.filter(profile=profile).select_related("family")
    return members if scope.sees_everything else members.filter(owned)


# --- Attachments -------------------------------------------------------------------------------


class _AttachmentRefused(Exception):
    """A file could not be stored: raised inside the transaction so that everything rolls back."""


def _discard_objects(documents) -> None:
    """Delete the objects of documents whose rows were rolled back (the orphan sweep is the backstop)."""
    if not documents:
        return
    storage = documents_storage()
    for document in documents:
        try:
            storage.delete(storage.name_for_key(document.storage_key))
        except STORAGE_ERRORS:
            # Storage is failing: do not wait a deadline per object; the sweep removes the rest.
            logger.warning("could not delete objects of rolled-back documents from %s on; the sweep will", document.pk)
            return


def _save_with_attachments(request, files, save) -> TimelineEntry:
    """``save()`` (which writes and returns an entry), then store ``files`` attached to it: all or nothing.

    One transaction holds the entry and the documents' rows; each document's object is
    uploaded before its row is inserted. If anything fails, the transaction rolls back
    and the objects already uploaded are deleted. A refused file or storage being down
    raises ``_AttachmentRefused`` with the message for the ``attachments`` field.
    """
    stored: list[Document] = []
    try:
        with transaction.atomic():
            entry = save()
            for file in files:
                try:
                    document = document_store(request_or_user=request, file=file,
                                              attached_to_type=ENTRY_DOCUMENTS, attached_to_id=entry.pk)  # fmt: skip
                    stored.append(document)
                except StorageUnavailable as error:
                    raise _AttachmentRefused(str(error)) from error
                except ValidationError as error:
                    text = " ".join(error.messages)
                    raise _AttachmentRefused(f"{file.name}: {text} Nothing was saved.") from error
    except BaseException:
        _discard_objects(stored)
        raise
    return entry


def _attach_documents(entries) -> None:
    """Set ``attachments`` on each entry of a page: the stored documents of a readable entry
    (``pk``, ``original_filename``, ``size``, oldest first), None for an entry the user may not
    read. One query for the page, none when nothing on it is readable. Readability is the
    timeline's ``can_read``, the rule the documents app applies to a download
    (``casework.documents.may_read_entry``).
    """
    readable = {}
    for entry in entries:
        entry.attachments = [] if entry.can_read else None
        if entry.can_read:
            readable[str(entry.pk)] = entry
    if not readable:
        return
    documents = (
        Document.objects.filter(attached_to_type=ENTRY_DOCUMENTS, status=Document.Status.STORED,
                                attached_to_id__in=list(readable))
        .order_by("uploaded_at", "pk")
        .values_list("attached_to_id", "pk", "original_filename", "size")
    )  # fmt: skip
    for entry_id, pk, original_filename, size in documents:
        readable[entry_id].attachments.append({"pk": pk, "original_filename": original_filename, "size": size})


# --- Profiles ----------------------------------------------------------------------------------


@require_GET
def profile_list(request):
    form = ProfileFilterForm(request.GET)
    profiles = selectors.profiles_visible_to(request.user).select_related("owning_team__agency", "owning_agency")
    if form.is_valid() and form.cleaned_data["kind"]:
        profiles = profiles.filter(kind=form.cleaned_data["kind"])
    page = Paginator(profiles, PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "filter_query": _filter_query(request), "section": "profiles"}
    return render(request, "casework/profile_list.html", context)


@writers_only
@GET_POST
@create_once
def profile_create(request):
    form = ProfileCreateForm(_posted(request), teams=_my_teams(request.user))
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        is_person = data["kind"] == Profile.Kind.PERSON
        if is_person and data["not_duplicate"] != form.duplicate_key():
            duplicates = list(
                services.profile_likely_duplicates(
                    user=request.user, first_name=data["first_name"], last_name=data["last_name"],
                    date_of_birth=data["date_of_birth"],
                )
            )  # fmt: skip
        if not duplicates:
            try:
                profile = services.profile_create(
                    user=request.user, request=request, kind=data["kind"],
                    first_name=data["first_name"] if is_person else "",
                    last_name=data["last_name"] if is_person else "",
                    name="" if is_person else data["name"], date_of_birth=data["date_of_birth"] if is_person else None,
                    gender=data["gender"] if is_person else Profile.Gender.NOT_KNOWN,
                    owning_team=data["owning_team"], aliases=form.alias_list(),
                )  # fmt: skip
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, f"The profile of {profile.display_name} has been created.")
                return redirect("casework:profile-detail", profile_id=profile.pk)
        else:
            # Ask once; the confirmation is for these names and this date of birth only.
            form.data = form.data.copy()
            form.data["not_duplicate"] = form.duplicate_key()
    context = {"form": form, "duplicates": duplicates, "section": "profiles"}
    return render(request, "casework/profile_create.html", context)


@GET_POST
def profile_detail(request, profile_id: int):
    """The profile; a POST uploads a new photo (editors of the profile only; the newest is shown)."""
    user = request.user
    profile = selectors.access_profile(user=user, profile_id=profile_id)
    photo_form = ProfilePhotoForm(request.POST, request.FILES) if request.method == "POST" else ProfilePhotoForm()
    if request.method == "POST":
        if user.is_read_only or not _may_edit_profile(user, profile):  # a change: decided in the query
            return forbidden(request)
        if photo_form.is_valid():
            try:
                document_store(request_or_user=request, file=photo_form.cleaned_data["photo"],
                               attached_to_type=PROFILE_PHOTO, attached_to_id=profile.pk)  # fmt: skip
            except StorageUnavailable as error:
                photo_form.add_error("photo", str(error))
            except ValidationError as error:
                photo_form.add_error("photo", error.messages)
            else:
                messages.success(request, f"The photo of {profile.display_name} has been saved.")
                return redirect("casework:profile-detail", profile_id=profile.pk)
    services.record_viewed(user=user, request=request, record=profile)
    prefetch_related_objects([profile], "aliases", "addresses", "identifiers", "warnings", "vulnerabilities")
    roles = (
        CaseSubject.objects.filter(profile=profile, case__in=selectors.cases_visible_to(user))
        .select_related("case__case_type")
        .order_by("-case__opened_on", "-case_id")
    )
    timeline_filter = TimelineFilterForm(request.GET)
    timeline = selectors.timeline_for_profile(user=user, profile=profile, kind=timeline_filter.chosen_kind())
    page = Paginator(timeline, PER_PAGE).get_page(request.GET.get("page"))
    _attach_documents(page.object_list)
    timeline_html.render_entries(page.object_list, may_edit=False, show_case=True)
    context = {
        "profile": profile,
        "roles": roles,
        "families": _families_of(user, profile),
        "page": page,
        "may_edit": selectors.may_edit_profile(user, profile),  # what the page offers
        "may_share": selectors.sharing_rights(user, profile).may_share,
        "photo_url": profile_photo_url(profile),
        "photo_form": photo_form,
        "timeline_filter": timeline_filter,
        "filter_query": _filter_query(request),
        "section": "profiles",
    }
    status = 400 if photo_form.errors else 200
    return render(request, "casework/profile_detail.html", context, status=status)


@writers_only
@GET_POST
def profile_edit(request, profile_id: int):
    profile = selectors.access_profile(user=request.user, profile_id=profile_id, edit=True)
    initial = {name: getattr(profile, name) for name in ("first_name", "last_name", "name", "date_of_birth",
                                                          "gender", "phone", "notes", "version")}  # fmt: skip
    form = ProfileEditForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user=request.user, request=request, profile=profile,
                                    version=form.cleaned_data["version"], **form.changes(profile))  # fmt: skip
        except services.ChangedSinceOpened as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The profile has been saved.")
            return redirect("casework:profile-detail", profile_id=profile.pk)
    services.record_viewed(user=request.user, request=request, record=profile, what="edit form")
    return render(request, "casework/profile_edit.html", {"form": form, "profile": profile, "section": "profiles"})


@require_POST
@writers_only
def profile_duplicates(request):
    """The "may already have a profile" fragment for the create form, fetched by htmx as the
    user leaves a name or the date of birth. POST only: names are personal data and never go
    in a URL (nor its logs). Lists only profiles the user may see."""
    wanted = DuplicateCheckForm(request.POST).wanted()
    duplicates = list(services.profile_likely_duplicates(user=request.user, **wanted)) if wanted else []
    return render(request, "casework/_duplicates.html", {"duplicates": duplicates})


MERGE_CHOICES_SHOWN = 500
DETAIL_RELATIONS = ("addresses", "identifiers", "warnings", "vulnerabilities")


def _merge_summary(user, profile: Profile) -> dict:
    """What moves when ``profile`` is merged away: what the user can see of it."""
    aliases = list(ProfileAlias.objects.filter(profile=profile).order_by("name").values_list("name", flat=True))
    return {
        "roles": (
            CaseSubject.objects.filter(profile=profile, case__in=selectors.cases_visible_to(user))
            .select_related("case")
            .order_by("-case__opened_on", "-case_id")
        ),
        "families": _families_of(user, profile),
        "entries": selectors.timeline_for_profile(user=user, profile=profile).count(),
        "aliases": aliases,
        "details": sum(getattr(profile, name).count() for name in DETAIL_RELATIONS),
    }


@writers_only
@GET_POST
def profile_merge(request, profile_id: int):
    """ "This is the same person as...": choose the other profile (a likely duplicate or any other
    the user may edit), confirm what moves, and merge it into this one, which is kept."""
    user = request.user
    profile = selectors.access_profile(user=user, profile_id=profile_id)
    if not _may_edit_profile(user, profile):
        return forbidden(request)
    editable = selectors.profiles_visible_to(user, edit=True).filter(kind=profile.kind).exclude(pk=profile.pk)
    duplicate_ids = []
    if profile.kind == Profile.Kind.PERSON:
        found = services.profile_likely_duplicates(user=user, first_name=profile.first_name,
                                                   last_name=profile.last_name, date_of_birth=profile.date_of_birth,
                                                   limit=6)  # fmt: skip
        duplicate_ids = [candidate.pk for candidate in found if candidate.pk != profile.pk]
    duplicates = editable.filter(pk__in=duplicate_ids).order_by("last_name", "first_name", "name", "pk")
    others = editable.order_by("last_name", "first_name", "name", "pk")
    form = ProfileMergeForm(_posted(request), duplicates=duplicates, others=others)
    shown = list(others[:MERGE_CHOICES_SHOWN])
    form.fields["other"].widget.choices = [("", "Choose a profile")] + [
        (candidate.pk, form.fields["other"].label_from_instance(candidate)) for candidate in shown
    ]
    context = {"profile": profile, "form": form, "has_duplicates": bool(duplicate_ids), "section": "profiles",
               "others_capped": len(shown) == MERGE_CHOICES_SHOWN}  # fmt: skip
    if request.method == "POST" and form.is_valid():
        merge = form.cleaned_data["merge"]
        if form.cleaned_data["confirm"] != str(merge.pk):
            context.update(merge=merge, summary=_merge_summary(user, merge))
            services.record_viewed(user=user, request=request, record=profile, what="merge form")
            services.record_viewed(user=user, request=request, record=merge, what="what a merge moves")
            return render(request, "casework/profile_merge_confirm.html", context)
        try:
            with transaction.atomic():
                services.profile_merge(user=user, request=request, keep=profile, merge=merge)
        except services.AlreadyMerged as error:  # an opposite merge won a moment ago
            form.add_error(None, error.message)
            return render(request, "casework/profile_merge.html", context, status=409)
        except ValidationError as error:
            _apply_errors(form, error, rename={"merge": "other"})
        else:
            messages.success(request, f"{merge.display_name} has been merged into this profile.")
            return redirect("casework:profile-detail", profile_id=profile.pk)
    services.record_viewed(user=user, request=request, record=profile, what="merge form")
    return render(request, "casework/profile_merge.html", context, status=400 if form.errors else 200)


# --- Cases -------------------------------------------------------------------------------------


@require_GET
def case_list(request):
    form = CaseFilterForm(request.GET, case_types=CaseType.objects.order_by("name"))
    cases = selectors.cases_visible_to(request.user).select_related("case_type", "owning_team", "lead_practitioner")
    if form.is_valid():
        if form.cleaned_data["status"]:
            cases = cases.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["case_type"]:
            cases = cases.filter(case_type=form.cleaned_data["case_type"])
    else:
        cases = cases.none()
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "filter_query": _filter_query(request), "section": "cases"}
    return render(request, "casework/case_list.html", context)


@writers_only
@GET_POST
@create_once
def case_create(request):
    user = request.user
    profiles = selectors.profiles_visible_to(user).order_by("last_name", "first_name", "name", "pk")
    initial = {}
    wanted = request.GET.get("profile", "")
    if wanted.isdigit():
        initial["subject_1"] = profiles.filter(pk=wanted).first()
    form = CaseCreateForm(_posted(request), initial=initial, case_types=_case_types(), teams=_my_teams(user),
                          profiles=profiles)  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_create(
                user=user, request=request, case_type=data["case_type"], title=data["title"],
                summary=data["summary"], opened_on=data["opened_on"], lead_practitioner=user,
                owning_team=data["owning_team"], subjects=form.subjects(),
            )  # fmt: skip
        except ValidationError as error:
            _apply_errors(form, error, rename={"subjects": "subject_1"})
        else:
            messages.success(request, f"Case {case.reference} has been opened.")
            return redirect("casework:case-detail", case_id=case.pk)
    return render(request, "casework/case_create.html", {"form": form, "section": "cases"})


def _subjects_of(user, case: Case) -> list:
    """The case's subjects, each marked with whether the user may open the profile itself."""
    subjects = list(case.subjects.select_related("profile").order_by("profile__last_name", "profile__first_name", "pk"))
    openable = selectors.openable_profile_ids(user, [subject.profile for subject in subjects])
    for subject in subjects:
        subject.profile_visible = subject.profile_id in openable
    return subjects


@require_GET
def case_detail(request, case_id: int):
    user = request.user
    case = _case_with_people(user, case_id, edit=False)
    services.record_viewed(user=user, request=request, record=case)
    timeline_filter = TimelineFilterForm(request.GET)
    kind = timeline_filter.chosen_kind()
    timeline = selectors.timeline_for_case(user=user, case=case, kind=kind)
    paginator = CountedPaginator(timeline, PER_PAGE, count=selectors.live_entry_count(case, kind=kind))
    page = paginator.get_page(request.GET.get("page"))
    _attach_documents(page.object_list)
    may_edit = selectors.may_edit_case(user, case)
    timeline_html.render_entries(page.object_list, may_edit=may_edit, show_case=False)
    context = {
        "case": case,
        "subjects": _subjects_of(user, case),
        "page": page,
        "may_edit": may_edit,
        "may_share": selectors.sharing_rights(user, case).may_share,
        "timeline_filter": timeline_filter,
        "filter_query": _filter_query(request),
        "section": "cases",
    }
    return render(request, "casework/case_detail.html", context)


def _case_with_people(user, case_id, *, edit: bool) -> Case:
    return selectors.access_case(user=user, case_id=case_id, edit=edit,
                                 related=("case_type", "owning_team", "lead_practitioner"))  # fmt: skip


@writers_only
@GET_POST
def case_status(request, case_id: int):
    case = _case_with_people(request.user, case_id, edit=True)
    initial = {"status": case.status, "outcome": case.outcome, "closed_on": case.closed_on, "version": case.version}
    form = CaseStatusForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_set_status(user=request.user, request=request, case=case, version=data["version"],
                                     status=data["status"], outcome=data["outcome"],
                                     closed_on=data["closed_on"])  # fmt: skip
        except services.ChangedSinceOpened as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"The status of {case.reference} has been saved.")
            return redirect("casework:case-detail", case_id=case.pk)
    services.record_viewed(user=request.user, request=request, record=case, what="status form")
    return render(request, "casework/case_status.html", {"form": form, "case": case, "section": "cases"})


def _share_form(request, rights):
    from django.contrib.auth import get_user_model

    from tenant_apps.directory.models import Agency

    users = get_user_model().objects.filter(is_active=True).order_by("full_name", "email")
    return ShareForm(_posted(request), teams=_all_teams(), agencies=Agency.objects.order_by("name"), users=users,
                     rights=rights)  # fmt: skip


@writers_only
@GET_POST
def case_sharing(request, case_id: int):
    """Who else may see the case: the owners, admins and re-sharers (``sharing_rights``); anyone
    else who may see it gets the 403 page (a case they cannot see is a 404)."""
    case = _case_with_people(request.user, case_id, edit=False)
    rights = selectors.sharing_rights(request.user, case)
    if not rights.may_share:
        return forbidden(request)
    form = _share_form(request, rights)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.share_grant(user=request.user, request=request, case=case, team=data["team"],
                                 agency=data["agency"], grantee=data["grantee"], **sharing_terms(form))  # fmt: skip
        except ValidationError as error:
            _apply_errors(form, error, rename=SHARE_ERROR_FIELDS)
        else:
            messages.success(request, f"{case.reference} has been shared.")
            return redirect("casework:case-sharing", case_id=case.pk)
    shares = shares_with_revoke_urls(case, "casework:share-revoke", request.user, rights, case_id=case.pk)
    context = {"form": form, "case": case, "shares": shares, "section": "cases"}
    services.record_viewed(user=request.user, request=request, record=case, what="sharing")
    return render(request, "casework/case_sharing.html", context)


def shares_with_revoke_urls(record, revoke_view: str, user, rights, **record_kwargs) -> list:
    """A case's or a profile's shares, oldest first, each with the address that revokes it (None
    for those the user may not revoke: ``SharingRights.may_revoke``)."""
    shares = list(record.shares.select_related("team__agency", "agency", "user", "granted_by").order_by("granted_at"))
    for share in shares:
        share.revoke_url = (
            reverse(revoke_view, kwargs={**record_kwargs, "share_id": share.pk})
            if rights.may_revoke(user, share)
            else None
        )
    return shares


@writers_only
@require_POST
def share_revoke(request, case_id: int, share_id: int):
    case = selectors.access_case(user=request.user, case_id=case_id)
    share = case.shares.filter(pk=share_id).first()
    if share is None:
        raise Http404("No such share")
    services.share_revoke(user=request.user, request=request, share=share)
    messages.success(request, "That access has been removed.")
    return redirect("casework:case-sharing", case_id=case.pk)


# --- Timeline ----------------------------------------------------------------------------------


@writers_only
@GET_POST
@create_once
def entry_create(request, case_id: int):
    case = _case_with_people(request.user, case_id, edit=True)
    now = timezone.localtime()
    initial = {"occurred_on": now.date(), "occurred_time": now.strftime("%H:%M")}
    form = EntryCreateForm(_posted(request), request.FILES or None, initial=initial, teams=_all_teams())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def save():
            return services.entry_create(user=request.user, request=request, case=case, **form.values(),
                                         is_sensitive=data["is_sensitive"],
                                         restricted_to_teams=list(data["restricted_to_teams"]))  # fmt: skip

        try:
            _save_with_attachments(request, data["attachments"], save)
        except _AttachmentRefused as error:
            form.add_error("attachments", str(error))
        except ValidationError as error:
            _apply_errors(form, error, rename={"occurred_at": "occurred_on", "action": form.action_field()})
        else:
            files = len(data["attachments"])
            attached = f" with {files} attachment{'s' if files > 1 else ''}" if files else ""
            messages.success(request, f"The entry has been added to the timeline{attached}.")
            return redirect("casework:case-detail", case_id=case.pk)
    services.record_viewed(user=request.user, request=request, record=case, what="new entry form")
    return render(request, "casework/entry_create.html", {"form": form, "case": case, "section": "cases"})


def _editable_entry(request, entry_id) -> TimelineEntry:
    """An entry the user may edit and read (a sensitive entry outside their teams is not theirs to change)."""
    entry = selectors.access_entry(user=request.user, entry_id=entry_id, edit=True)
    if not entry.can_read:
        raise Http404("No such entry")
    return entry


def _back_to(entry: TimelineEntry):
    if entry.case_id:
        return redirect("casework:case-detail", case_id=entry.case_id)
    return redirect("casework:profile-list")


@writers_only
@GET_POST
def entry_edit(request, entry_id: int):
    entry = _editable_entry(request, entry_id)
    form = EntryEditForm(_posted(request), request.FILES or None, initial=EntryEditForm.initial_for(entry))
    if request.method == "POST" and form.is_valid():

        def save():
            return services.entry_update(user=request.user, request=request, entry=entry,
                                         version=form.cleaned_data["version"], **form.values())  # fmt: skip

        try:
            _save_with_attachments(request, form.cleaned_data["attachments"], save)
        except _AttachmentRefused as error:
            form.add_error("attachments", str(error))
        except services.ChangedSinceOpened as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            _apply_errors(form, error, rename={"occurred_at": "occurred_on", "action": form.action_field()})
        else:
            messages.success(request, "The entry has been saved. The previous version is kept in its history.")
            return _back_to(entry)
    history = entry.history.select_related("replaced_by")
    attachments = Document.objects.filter(
        attached_to_type=ENTRY_DOCUMENTS, attached_to_id=str(entry.pk), status=Document.Status.STORED
    ).order_by("uploaded_at", "pk")  # the entry is readable: _editable_entry checked
    context = {"form": form, "entry": entry, "history": history, "attachments": attachments, "section": "cases"}
    services.record_viewed(user=request.user, request=request, record=entry, what="edit form")
    return render(request, "casework/entry_edit.html", context)


@writers_only
@GET_POST
def entry_delete(request, entry_id: int):
    entry = _editable_entry(request, entry_id)
    form = EntryDeleteForm(_posted(request), initial={"version": entry.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_delete(user=request.user, request=request, entry=entry,
                                  version=form.cleaned_data["version"], reason=form.cleaned_data["reason"])  # fmt: skip
        except services.ChangedSinceOpened as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The entry has been deleted from the timeline.")
            return _back_to(entry)
    services.record_viewed(user=request.user, request=request, record=entry, what="delete form")
    return render(request, "casework/entry_delete.html", {"form": form, "entry": entry, "section": "cases"})


# --- Gallery -----------------------------------------------------------------------------------


@require_GET
def gallery(request):
    """The caseload (open and on-hold cases) as faces: one card per subject of each visible case."""
    form = GalleryFilterForm(request.GET, teams=_all_teams(), case_types=_case_types())
    cases = selectors.cases_visible_to(request.user).exclude(status=Case.Status.CLOSED)
    if form.is_valid():
        if form.cleaned_data["team"]:
            cases = cases.filter(owning_team=form.cleaned_data["team"])
        if form.cleaned_data["case_type"]:
            cases = cases.filter(case_type=form.cleaned_data["case_type"])
    else:
        cases = cases.none()
    last_contact = (
        TimelineEntry.objects.filter(case_id=OuterRef("case_id"), deleted_at__isnull=True, kind__in=CONTACT_KINDS)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    visible = selectors.profiles_visible_to(request.user).filter(pk=OuterRef("profile_id"))
    cards = (
        CaseSubject.objects.filter(case__in=cases)
        .select_related("profile", "case")
        .annotate(
            last_contact=Subquery(last_contact),
            profile_visible=Exists(visible),
            photo_document_id=Subquery(latest_photo_id(OuterRef("profile_id"))),
        )  # fmt: skip
        .order_by("profile__last_name", "profile__first_name", "profile__name", "case_id", "pk")
    )
    page = Paginator(cards, GALLERY_PER_PAGE).get_page(request.GET.get("page"))
    for card in page.object_list:
        # A photo only where the profile itself is visible: the image view would refuse it otherwise.
        card.profile.photo_document_id = card.photo_document_id if card.profile_visible else None
        card.photo_url = profile_photo_url(card.profile)
    services.gallery_viewed(user=request.user, request=request, page=page)
    context = {"form": form, "page": page, "filter_query": _filter_query(request), "section": "gallery"}
    return render(request, "casework/gallery.html", context)
