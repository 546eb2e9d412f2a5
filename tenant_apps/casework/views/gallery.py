"""The gallery page: the caseload (open and on-hold cases) as faces."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from concord.paging import filter_query, requested_page
from tenant_apps.casework import selectors, services
from tenant_apps.casework.forms import GalleryFilterForm
from tenant_apps.directory import selectors as directory

__all__ = ["gallery"]

GALLERY_PER_PAGE = 24


@require_GET
def gallery(request):
    """One card per subject of each visible open or on-hold case."""
    form = GalleryFilterForm(request.GET, teams=directory.teams_for_picker(),
                             case_types=selectors.case_type_choices(active_only=True))  # fmt: skip
    valid = form.is_valid()
    cards = selectors.gallery_cards(user=request.user, valid=valid, team=form.cleaned_data["team"] if valid else None,
                                    case_type=form.cleaned_data["case_type"] if valid else None)  # fmt: skip
    page = requested_page(request, cards, per_page=GALLERY_PER_PAGE)
    for card in page.object_list:
        # A photo only where the profile itself is visible: the image view would refuse it otherwise.
        card.profile.photo_document_id = card.photo_document_id if card.profile_visible else None
        card.photo_url = selectors.profile_photo_url(card.profile)
    services.gallery_viewed(user=request.user, request=request, page=page)
    context = {"form": form, "page": page, "filter_query": filter_query(request.GET), "section": "gallery"}
    return render(request, "casework/gallery/list.html", context)
