"""Pages of families: list, detail, create, add and remove members.

Who sees and changes a family is in ``family_selectors`` / ``family_services``:
its owning team and agency. A member whose profile the user may not see is never
named: the detail page says how many such members there are.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenant_apps.casework import selectors, services
from tenant_apps.casework.idempotency import create_once
from tenant_apps.casework.models import FamilyMember, normalise_name
from tenant_apps.casework.views_details import VersionForm, _required, apply_errors, writers_only

GET_POST = require_http_methods(["GET", "POST"])
PER_PAGE = 25
CANDIDATES = 20


class FamilyCreateForm(forms.Form):
    name = forms.CharField(label="Name of the family or household", max_length=200,
                           help_text="For example, the Brennan family, 14 Mill Lane")  # fmt: skip
    owning_team = forms.ModelChoiceField(label="Owning team", queryset=None, empty_label=None)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owning_team"].queryset = teams
        self.fields["owning_team"].label_from_instance = lambda team: f"{team.name} ({team.agency.name})"
        _required(self.fields["name"], "Enter a name for the family or household.")
        _required(self.fields["owning_team"], "Choose the team that owns this family.")


class AddMemberForm(VersionForm):
    q = forms.CharField(required=False, widget=forms.HiddenInput)
    profile = forms.ModelChoiceField(label="Person", queryset=None, widget=forms.RadioSelect)
    relationship = forms.ChoiceField(label="Relationship to the family", choices=FamilyMember.Relationship.choices,
                                     widget=forms.RadioSelect)  # fmt: skip

    def __init__(self, *args, profiles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = profiles
        _required(self.fields["profile"], "Choose a person you may edit.")
        _required(self.fields["relationship"], "Choose their relationship to the family.")


def _my_teams(user):
    from tenant_apps.directory.models import Team

    return Team.objects.filter(team_memberships__user=user).select_related("agency").order_by("agency__name", "name")


@require_GET
def family_list(request):
    families = selectors.families_visible_to(request.user).select_related("owning_team", "owning_agency")
    page = Paginator(families.order_by("name", "pk"), PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "may_create": not request.user.is_read_only, "section": "profiles"}
    return render(request, "casework_more/family_list.html", context)


@writers_only
@GET_POST
@create_once
def family_create(request):
    form = FamilyCreateForm(request.POST if request.method == "POST" else None, teams=_my_teams(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            family = services.family_create(user=request.user, request=request, name=form.cleaned_data["name"],
                                                   owning_team=form.cleaned_data["owning_team"])  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{family.name} has been created.")
            return redirect("casework_more:family-detail", family_id=family.pk)
    return render(request, "casework_more/family_create.html", {"form": form, "section": "profiles"})


@require_GET
def family_detail(request, family_id: int):
    family = selectors.access_family(user=request.user, family_id=family_id)
    members = selectors.members_of(user=request.user, family=family)
    may_edit = selectors.families_visible_to(request.user, edit=True).filter(pk=family.pk).exists()
    context = {"family": family, "members": members, "may_edit": may_edit, "section": "profiles"}
    services.record_viewed(user=request.user, request=request, record=family)
    return render(request, "casework_more/family_detail.html", context)


@writers_only
@GET_POST
def family_add_member(request, family_id: int):
    user = request.user
    family = selectors.access_family(user=user, family_id=family_id, edit=True)
    editable = selectors.profiles_visible_to(user, edit=True)
    data = request.POST if request.method == "POST" else None
    form = AddMemberForm(data, profiles=editable, initial={"version": family.version, "q": request.GET.get("q", "")})
    query = (request.POST.get("q") if data is not None else request.GET.get("q", "")) or ""
    wanted = normalise_name(query)
    candidates = (
        editable.filter(search_name__contains=wanted).order_by("last_name", "first_name", "name", "pk")[:CANDIDATES]
        if wanted
        else []
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.family_add_member(
                user=user, request=request, family=family, profile=form.cleaned_data["profile"],
                relationship=form.cleaned_data["relationship"], version=form.cleaned_data["version"],
            )  # fmt: skip
        except services.ChangedSinceOpened as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['profile'].display_name} has been added to {family.name}.")
            return redirect("casework_more:family-detail", family_id=family.pk)
    chosen = form["profile"].value() if data is not None else None
    context = {"family": family, "form": form, "query": query, "candidates": candidates,
               "chosen": str(chosen or ""), "section": "profiles"}  # fmt: skip
    services.record_viewed(user=user, request=request, record=family, what="add member form")
    return render(request, "casework_more/family_add_member.html", context)


@writers_only
@require_POST
def family_remove_member(request, family_id: int, member_id: int):
    user = request.user
    family = selectors.access_family(user=user, family_id=family_id, edit=True)
    member = (
        FamilyMember.objects.filter(pk=member_id, family=family, profile__in=selectors.profiles_visible_to(user))
        .select_related("family", "profile")
        .first()
    )
    if member is None:
        raise Http404("No such member")
    form = VersionForm(request.POST)
    try:
        services.family_remove_member(
            user=user, request=request, member=member, version=form.cleaned_data["version"] if form.is_valid() else -1
        )
    except services.ChangedSinceOpened as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{member.profile.display_name} has been removed from {family.name}.")
    return redirect("casework_more:family-detail", family_id=family.pk)
