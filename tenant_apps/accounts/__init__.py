"""Accounts: the partnership's users, signing in with a password and a second factor, sessions.

Public API (keyword-only):

- ``models.User``: the user model (``AUTH_USER_MODEL``); ``role``, ``is_partnership_admin``, ``is_read_only``,
  ``is_integration`` (an API client's service account: never signs in, never mailed).
- ``models.SecuritySettings``: the partnership's session policy (``SecuritySettings.current()``).
- ``access.public(view)``: marks a view anyone may reach (sign-in, password reset).
- ``access.password_only(view)``: marks a view reachable before the second factor (enrolment).
- ``services.is_verified(user)``: whether this request's user gave their second factor.
- ``services.user_invite(request=, email=, full_name=, role=, partnership_name=)``: a new account, invited.
- ``services.invitation_send(request=, user=, partnership_name=)``: e-mail a set-password link; returns it.
- ``services.invitation_link(user)``: a set-password link without sending it (operators show it once).
- ``services.second_factor_reset(request=, user=)``: clear a user's second factors; they enrol again only
  through the single-use link it e-mails them (``services.enrolment_link``, ``enrolment_allowed``).
- ``services.reauthenticate(request=, password=, code=)`` and ``reauthentication_is_fresh(request)``: the
  "confirm it is you" step (``REAUTH_SECONDS``) that replacing a factor needs (``ReauthenticationRequired``).
- ``services.passkey_add(request=, name=, credential=)``, ``passkey_rename``, ``passkey_remove``,
  ``verify_second_factor_passkey(request=, credential=)``: passkeys (``passkeys``: options, verification,
  ``access_passkey(user=, passkey_id=)``); ``has_factor_besides_passkeys(user)``.
- ``services.password_change(request=, old_password=, new_password=)``: other sessions end, this one stays.
- ``services.not_me_report(request=, notice=)``: a "this wasn't me" link used: signed out everywhere, admins told.
- ``notices``: the e-mail of each change of a factor (``notice_send``) and its "this wasn't me" link.
- ``services.security_settings_update(request=, session_idle_minutes=)``: set the idle timeout.
- ``readlimits``: bulk-read limits: ``@read_limited(READ | SEARCH | DOWNLOAD)`` on a page view,
  ``ReadLimitThrottle`` (the API's throttle), ``read_limits_update(request=, ...)``, ``ReadLimits``.
- ``middleware.SessionPolicyMiddleware``: idle and absolute timeouts, sign-out everywhere (settings).
- ``middleware.RequireSecondFactorMiddleware``: fail closed, every unmarked view needs the second factor.
"""
