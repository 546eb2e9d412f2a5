"""Audit anchors: each partnership's audit chain head, copied into public, append-only.

Public API (keyword-only):

- ``services.anchor_record_for_partnership(schema_name=, seq=, hash=)``: the ONE function that
  writes this app's public table (from the public context), so that one grant covers it.
- ``selectors.anchor_latest(schema_name=)``: a partnership's latest anchor, or None.

The anchoring job and verification live in ``tenant_apps.audit.chain``.
"""
