"""Kept only for ``tenant_apps/casework/api.py``, which imports ``IsVerified`` from here until the
casework pass moves it onto ``concord.api.BaseApi``; then delete this module. New code imports
``concord.api.IsVerified`` (settings do: ``concord.api.permissions.IsVerified``)."""

from concord.api.permissions import IsVerified

__all__ = ["IsVerified"]
