"""Pages of the partnership admin area (``/admin/``): users, agencies, teams, settings.
(API clients: ``views/clients.py``.)

Each view is a few lines: it parses a form, calls one selector or service, and
redirects after a successful POST (with a success banner) or re-renders the form
with its errors named by field. Ids in URLs are resolved by the ``access_*``
selectors, in the current partnership's schema only.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from concord.pages import GET_POST, REFUSALS, apply_errors, posted
from concord.paging import filter_query, requested_page
from tenant_apps.directory import selectors, services
from tenant_apps.directory.decorators import partnership_admin_required
from tenant_apps.directory.forms import (
    AgencyForm,
    IdleTimeoutForm,
    InviteForm,
    MembershipFields,
    ReadLimitsForm,
    RoleForm,
    TeamForm,
    UserFilterForm,
)

USERS_PER_PAGE = 50


@partnership_admin_required
@require_GET
def index(request):
    return render(request, "directory/index.html")


# --- Users ------------------------------------------------------------------------------


@partnership_admin_required
@require_GET
def user_list(request):
    form = UserFilterForm(request.GET, **_membership_choices(request))
    page = None
    if form.is_valid():
        users = selectors.user_list(actor=request.user, **form.filters())
        page = requested_page(request, users, per_page=USERS_PER_PAGE)
        for user in page.object_list:
            user.directory_status = selectors.user_status(user)
    context = {"form": form, "page": page, "filter_query": filter_query(request.GET), "section": "users"}
    return render(request, "directory/user_list.html", context)


def _membership_choices(request) -> dict:
    return {
        "agencies": selectors.agency_choices(actor=request.user),
        "teams": selectors.team_choices(actor=request.user),
    }


@partnership_admin_required
@GET_POST
def user_invite(request):
    form = InviteForm(posted(request), **_membership_choices(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_invite_with_membership(
                request=request,
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                agency=data["agency"],
                teams=data["teams"],
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {user.email}. The link in it works for 72 hours.")
            return redirect("directory:user-detail", user_id=user.pk)
    return render(request, "directory/user_invite.html", {"form": form, "section": "users"})


@partnership_admin_required
@require_GET
def user_detail(request, user_id: int):
    person = selectors.access_user(actor=request.user, user_id=user_id)
    person.directory_status = selectors.user_status(person)
    return render(request, "directory/user_detail.html", {"person": person, "section": "users"})


@partnership_admin_required
@GET_POST
def user_role(request, user_id: int):
    person = selectors.access_user(actor=request.user, user_id=user_id)
    form = RoleForm(posted(request), initial={"role": person.role})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_role(request=request, user=person, role=form.cleaned_data["role"])
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            if person.pk == request.user.pk and form.cleaned_data["role"] != "admin":
                messages.success(request, "Your role has changed. You can no longer use the admin area.")
                return redirect("home")
            messages.success(request, f"{person.get_full_name()}'s role has been saved.")
            return redirect("directory:user-detail", user_id=person.pk)
    return render(request, "directory/user_role.html", {"form": form, "person": person, "section": "users"})


@partnership_admin_required
@GET_POST
def user_membership(request, user_id: int):
    person = selectors.access_user(actor=request.user, user_id=user_id)
    membership = getattr(person, "membership", None)
    initial = {"agency": membership.agency if membership else None, "teams": list(person.teams.all())}
    form = MembershipFields(posted(request), initial=initial, **_membership_choices(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_agency_and_teams(
                request=request, user=person, agency=form.cleaned_data["agency"], teams=form.cleaned_data["teams"]
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{person.get_full_name()}'s agency and teams have been saved.")
            return redirect("directory:user-detail", user_id=person.pk)
    context = {"form": form, "person": person, "section": "users"}
    return render(request, "directory/user_membership.html", context)


def _confirm(request, user_id: int, *, action, template_context: dict, done: str):
    """GET: the confirmation page. POST: do it, then back to the user's page with a banner."""
    person = selectors.access_user(actor=request.user, user_id=user_id)
    form = forms.Form(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            action(request=request, user=person)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, done.format(name=person.get_full_name(), email=person.email))
            return redirect("directory:user-detail", user_id=person.pk)
    context = {"form": form, "person": person, "section": "users", **template_context}
    return render(request, "directory/user_confirm.html", context)


@partnership_admin_required
@GET_POST
def user_deactivate(request, user_id: int):
    return _confirm(
        request,
        user_id,
        action=services.user_deactivate,
        template_context={
            "title": "Deactivate this account?",
            "explanation": "They will be signed out at once and cannot sign in again until reactivated. "
            "Nothing they recorded is deleted.",
            "button": "Deactivate account",
            "warning": True,
        },
        done="{name} has been deactivated and signed out.",
    )


@partnership_admin_required
@GET_POST
def user_reactivate(request, user_id: int):
    return _confirm(
        request,
        user_id,
        action=services.user_reactivate,
        template_context={
            "title": "Reactivate this account?",
            "explanation": "They will be able to sign in again with their password and second factor, "
            "with the role, agency and teams they have now.",
            "button": "Reactivate account",
        },
        done="{name} has been reactivated.",
    )


@partnership_admin_required
@GET_POST
def user_reset_second_factor(request, user_id: int):
    return _confirm(
        request,
        user_id,
        action=services.user_second_factor_reset,
        template_context={
            "title": "Reset their second factor?",
            "explanation": "Their authenticator app and backup codes stop working and they are signed out. "
            "We e-mail them a single-use link to set up an authenticator app again (their password alone "
            "cannot). Check who is asking first: "
            "only do this for the account's owner.",
            "button": "Reset second factor",
            "warning": True,
        },
        done="{name}'s second factor has been reset. We have e-mailed them a link to set up an authenticator app.",
    )


@partnership_admin_required
@GET_POST
def user_resend_invitation(request, user_id: int):
    return _confirm(
        request,
        user_id,
        action=services.user_invitation_resend,
        template_context={
            "title": "Send the invitation again?",
            "explanation": "They get a new link to set their password, which works for 72 hours.",
            "button": "Send invitation",
        },
        done="A new invitation has been sent to {email}.",
    )


# --- Agencies and teams ----------------------------------------------------------------------


@partnership_admin_required
@require_GET
def agency_list(request):
    agencies = selectors.agency_list(actor=request.user)
    return render(request, "directory/agency_list.html", {"agencies": agencies, "section": "agencies"})


@partnership_admin_required
@GET_POST
def agency_create(request):
    form = AgencyForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            agency = services.agency_create(request=request, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{agency.name} has been added.")
            return redirect("directory:agency-list")
    return render(request, "directory/agency_form.html", {"form": form, "agency": None, "section": "agencies"})


@partnership_admin_required
@GET_POST
def agency_edit(request, agency_id: int):
    agency = selectors.access_agency(actor=request.user, agency_id=agency_id)
    form = AgencyForm(posted(request), initial={"name": agency.name, "kind": agency.kind})
    if request.method == "POST" and form.is_valid():
        try:
            agency = services.agency_update(request=request, agency=agency, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{agency.name} has been saved.")
            return redirect("directory:agency-list")
    return render(request, "directory/agency_form.html", {"form": form, "agency": agency, "section": "agencies"})


@partnership_admin_required
@GET_POST
def team_create(request):
    agencies = selectors.agency_choices(actor=request.user)
    chosen = request.GET.get("agency", "")
    initial = {"agency": agencies.filter(pk=chosen).first()} if chosen.isdigit() else {}
    form = TeamForm(posted(request), initial=initial, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(request=request, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{team.name} has been added to {team.agency.name}.")
            return redirect(f"{reverse('directory:agency-list')}#agency-{team.agency_id}")
    context = {"form": form, "team": None, "section": "agencies", "has_agencies": agencies.exists()}
    return render(request, "directory/team_form.html", context)


@partnership_admin_required
@GET_POST
def team_edit(request, team_id: int):
    team = selectors.access_team(actor=request.user, team_id=team_id)
    agencies = selectors.agency_choices(actor=request.user)
    members = selectors.team_members(actor=request.user, team=team)
    form = TeamForm(posted(request), initial={"agency": team.agency, "name": team.name, "lead": team.lead},
                    agencies=agencies, members=members)  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_update(request=request, team=team, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{team.name} has been saved.")
            return redirect(f"{reverse('directory:agency-list')}#agency-{team.agency_id}")
    context = {"form": form, "team": team, "section": "agencies", "has_agencies": True}
    return render(request, "directory/team_form.html", context)


# --- Partnership settings ---------------------------------------------------------------------


@partnership_admin_required
@GET_POST
def partnership_settings(request):
    minutes = selectors.session_idle_minutes(actor=request.user)
    form = IdleTimeoutForm(posted(request), initial={"session_idle_minutes": minutes})
    if request.method == "POST" and form.is_valid():
        try:
            services.partnership_idle_timeout_set(
                request=request, session_idle_minutes=form.cleaned_data["session_idle_minutes"]
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            minutes = form.cleaned_data["session_idle_minutes"]
            messages.success(request, f"People are now signed out after {minutes} minutes without activity.")
            return redirect("directory:settings")
    limits_form = ReadLimitsForm(initial=selectors.read_limits(actor=request.user))
    return _settings_page(request, form=form, limits_form=limits_form)


def _settings_page(request, *, form, limits_form):
    context = {"form": form, "limits_form": limits_form, "section": "settings"}
    return render(request, "directory/settings.html", context)


@partnership_admin_required
@GET_POST
def partnership_read_limits(request):
    """The settings page's "Read limits" form (its own POST; a GET shows the settings page): bad
    input shows the page again with the errors named by field, and nothing saved."""
    limits_form = ReadLimitsForm(posted(request), initial=selectors.read_limits(actor=request.user))
    if request.method == "POST" and limits_form.is_valid():
        try:
            services.partnership_read_limits_set(request=request, **limits_form.cleaned_data)
        except REFUSALS as error:
            apply_errors(limits_form, error)
        else:
            messages.success(request, "The read limits have been saved.")
            return redirect(f"{reverse('directory:settings')}#read-limits")
    minutes = selectors.session_idle_minutes(actor=request.user)
    form = IdleTimeoutForm(initial={"session_idle_minutes": minutes})
    return _settings_page(request, form=form, limits_form=limits_form)
