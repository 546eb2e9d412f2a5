"""Directory: the partnership's agencies, teams and who belongs to them; the admin area.

The acting user is ``actor=`` here (the subject is often a user too).

Public API (keyword-only):

- ``models.Agency``: an organisation of the partnership (council, police, a charity).
- ``models.Team``: a team of an agency; ``label`` is "Team (Agency)".
- ``models.Membership``: a user's one agency.
- ``models.TeamMembership``: a user's teams.
- ``backends.MemberBackend``: the authentication backend; reads the user with their teams and agency
  in one query (``member_team_ids``, ``member_agency_id``).
"""
