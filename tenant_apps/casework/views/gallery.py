"""The gallery page: the caseload (open and on-hold cases) as faces, one card per person."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from concord.paging import filter_query, requested_page
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework import selectors, services
from tenant_apps.casework.forms import GalleryFilterForm
from tenant_apps.directory import selectors as directory

__all__ = ["gallery"]

GALLERY_PER_PAGE = 24


@require_GET
@read_limited(READ)
def gallery(request):
    """One card per person on the visible open or on-hold cases, latest contact first."""
    form = GalleryFilterForm(request.GET, teams=directory.teams_for_picker(),
                             case_types=selectors.case_type_choices(active_only=True))  # fmt: skip
    valid = form.is_valid()
    chosen = {key: form.cleaned_data[key] for key in ("team", "case_type")} if valid else {}
    cards = selectors.gallery_cards(user=request.user, valid=valid, sort=form.cleaned_data["sort"] if valid else "",
                                    **chosen)  # fmt: skip
    page = requested_page(request, cards, per_page=GALLERY_PER_PAGE)
    selectors.gallery_cards_fill(user=request.user, cards=page.object_list, **chosen)
    services.gallery_viewed(user=request.user, request=request, page=page)
    context = {"form": form, "page": page, "filter_query": filter_query(request.GET), "section": "gallery"}
    return render(request, "casework/gallery/list.html", context)
