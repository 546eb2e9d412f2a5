"""Who may download documents attached to casework (registered with the documents app).

- ``timeline_entry``: whoever may read the entry: it is visible to them and, if
  sensitive, they are in one of its named teams.
- ``profile_photo``: whoever may see the profile.
"""

from __future__ import annotations

from django.http import Http404

from tenant_apps.casework.selectors import access_entry, profiles_visible_to
from tenant_apps.documents import access


def may_read_entry(user, entry_id: str) -> bool:
    try:
        return bool(access_entry(user=user, entry_id=entry_id).can_read)
    except Http404:
        return False


def may_see_profile(user, profile_id: str) -> bool:
    return bool(str(profile_id).isdigit() and profiles_visible_to(user).filter(pk=profile_id).exists())


def register() -> None:
    access.register("timeline_entry", may_read_entry)
    access.register("profile_photo", may_see_profile)
