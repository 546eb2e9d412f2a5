"""Reads of a profile's details: addresses, identifiers, warning markers, vulnerabilities, other names."""

from __future__ import annotations

from django.db.models import QuerySet, prefetch_related_objects

from tenant_apps.casework.models import Profile

__all__ = ["DETAIL_RELATIONS", "detail_exists", "details_of", "with_details"]

DETAIL_RELATIONS = ("aliases", "addresses", "identifiers", "warnings", "vulnerabilities")


def with_details(profile: Profile, *, owners: bool = False) -> Profile:
    """The profile with its details read (and its owning agency and team, if ``owners``): one
    query per relation, for a profile already fetched with ``access_profile``."""
    prefetch_related_objects([profile], *(("owning_agency", "owning_team") if owners else ()), *DETAIL_RELATIONS)
    return profile


def details_of(*, profile: Profile, model) -> QuerySet:
    """The profile's details of one kind (``model``), in their order."""
    return model.objects.filter(profile=profile).order_by(*(model._meta.ordering or ()), "pk")


def detail_exists(*, profile: Profile, model, item_id) -> bool:
    return model.objects.filter(pk=item_id, profile=profile).exists()
