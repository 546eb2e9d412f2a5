"""Audit: the partnership's trail of who did and read what, its redaction and its pages.

Public API (keyword-only):

- ``services.audit_record(action=, request=None, actor=None, object_type="", object_id="", summary="", changes=None)``:
  the only way an event is written, in the current schema (never a secret: see ``services``).
- ``services.audit_changes(before, after)``: the ``{"field": [before, after]}`` of what changed.
- ``redaction.register(object_type, rule)``: who may not read events about a type (the app that owns
  the type registers its rule in ``AppConfig.ready()``; a type with no rule is shown whole).
- ``naming.register(object_type, names_for, label="", template="{label}: {name}", fields=None)``: how the
  trail names objects of a type (``names_for(object_ids) -> {object_id: name}``, one call per type per
  page) and reads their changed fields (``naming.Field``: a label, choice labels, a foreign key); the
  owning app registers in ``AppConfig.ready()``. Redaction comes first: a hidden object is never named.
- ``middleware.RefusedAccessMiddleware``: records ``access.forbidden`` (a signed-in person's 403) and
  ``access.refused`` (a write answering 404; a GET by id answering 404), rate-limited and summarised.
- ``selectors.reads_by(user=, actions=, limit=)``, ``selectors.last_reads_by(user=, action=, object_ids=, since=)``:
  a user's own reads (what they opened, and when they last opened one thing), for their dashboard.
- ``chain``: the hash chain every event is written into (``chain_append``: the only writer,
  used by ``audit_record``, the spool's replay and ``AuditEvent.save``), ``chain_verify(schema_name)``
  (``manage.py audit_verify``, the periodic job) and ``chains_anchor_all()`` (the anchoring job,
  into ``shared_apps.audit_anchors``); the canonical form and what is detected are in its docstring.
- ``views.event_list(request)``: the trail's page (operators serve it too, for public's trail).
- ``views.event_export(request)``: the trail as CSV (operators serve it too).
"""
