"""Authentication backend: Django's model backend, reading the user's places with the user.

Every casework read decides visibility from the user's teams and agency
(``tenant_apps.casework.selectors.user_scope``). Loading them in the same query
as the signed-in user (``concord.sql.related_values``) saves two round trips on
every page and API call that shows casework. In the public schema (operators) there are no teams or
agencies, so the user is read as Django reads it.

An API client's service account (``User.is_integration``) can never authenticate here: not with a
password, not from a session. It reaches the API only with its client's token
(``tenant_apps.directory.authentication``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django_tenants.utils import get_public_schema_name

from concord.sql import related_values
from tenant_apps.directory.models import Membership, TeamMembership


def member_with_places(**filters):
    """The user matching ``filters`` with their teams and agency read in the same query, or None."""
    model = get_user_model()
    return (
        model._default_manager.annotate(
            member_team_ids=related_values(TeamMembership, column="team_id", key="user_id", outer=model),
            member_agency_id=related_values(Membership, column="agency_id", key="user_id", outer=model, many=False),
        )
        .filter(**filters)
        .first()
    )


class MemberBackend(ModelBackend):
    def get_user(self, user_id):
        if getattr(connection, "schema_name", None) == get_public_schema_name():
            return super().get_user(user_id)
        user = member_with_places(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_integration", False)
