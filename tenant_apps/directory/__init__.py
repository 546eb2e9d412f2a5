"""Directory: the partnership's agencies, teams and who belongs to them; the admin area.

The acting user is ``actor=`` here (the subject is often a user too).

Public API (keyword-only):

- ``models.Agency``: an organisation of the partnership (council, police, a charity).
- ``models.Team``: a team of an agency; ``label`` is "Team (Agency)".
- ``models.Membership``: a user's one agency.
- ``models.TeamMembership``: a user's teams.
- ``backends.MemberBackend``: the authentication backend; reads the user with their teams and agency
  in one query (``member_team_ids``, ``member_agency_id``); never authenticates a service account.
- ``models.ApiClient``, ``models.ApiToken``: partner systems' access to the API (README "API clients").
- ``services.api_client_issue(request=, name=, team=, scopes=, expires_on=)``,
  ``services.api_client_rotate(request=, client=, expires_on=, old_token_ends=)``,
  ``services.api_client_revoke(request=, client=)``: admins only; a token is returned once.
- ``selectors.api_token_authenticate(token=)``: the service account and its ``ClientCredential``.
- ``authentication.ApiClientTokenAuthentication``: DRF's first authentication class (``Bearer``);
  ``authentication.ApiClientTokenScheme``: its OpenAPI security scheme.
- ``middleware.ApiClientAuditMiddleware``: every call of an API client audited (``api.call``).
"""
