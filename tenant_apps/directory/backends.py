"""Authentication backend: Django's model backend, reading the user's places with the user.

Every casework read decides visibility from the user's teams and agency
(``tenant_apps.casework.selectors.user_scope``). Loading them in the same query
as the signed-in user saves two round trips on every page and API call that
shows casework. In the public schema (operators) there are no teams or
agencies, so the user is read as Django reads it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.db.models.expressions import RawSQL
from django_tenants.utils import get_public_schema_name

from tenant_apps.directory.models import Membership, TeamMembership

# Plain SQL: built by the ORM, these two subqueries cost more to compile (about 0.6 ms a request)
# than the round trips they save. Table names come from the models.
_TEAMS = 'ARRAY(SELECT m.team_id FROM {table} m WHERE m.user_id = {user}."id" ORDER BY m.team_id)'
_AGENCY = '(SELECT m.agency_id FROM {table} m WHERE m.user_id = {user}."id")'


class MemberBackend(ModelBackend):
    def get_user(self, user_id):
        if getattr(connection, "schema_name", None) == get_public_schema_name():
            return super().get_user(user_id)
        model = get_user_model()
        user_table = model._meta.db_table
        quote = connection.ops.quote_name
        teams = _TEAMS.format(table=quote(TeamMembership._meta.db_table), user=quote(user_table))
        agency = _AGENCY.format(table=quote(Membership._meta.db_table), user=quote(user_table))
        try:
            user = model._default_manager.annotate(  # SQL made of the models' table names only, no input
                member_team_ids=RawSQL(teams, ()),  # noqa: S611
                member_agency_id=RawSQL(agency, ()),  # noqa: S611
            ).get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
