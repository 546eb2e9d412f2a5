"""Outbound e-mail: queued in the caller's transaction, sent by a job, kept for a while.

Public API (what other apps call):

- ``services.mail_send_later(to=[...], subject=..., body=..., html_body=None)``: queue an
  e-mail in the current schema and transaction.
- ``services.release_held_email(schema_name)``: queue the e-mail held while a partnership
  was suspended (``tenants.provisioning`` calls it on resume).
- ``models.OutboundEmail``: the rows (read by tests and operators' tooling).

The rest is the outbox's own: ``mail`` (SMTP delivery, at least once with one
Message-ID), ``jobs`` (``send_email``, the retention purge).
"""
