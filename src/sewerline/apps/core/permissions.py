"""Capability checks for views and API endpoints."""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from rest_framework.permissions import BasePermission

from sewerline.apps.core.roles import Capability, has_capability


class CapabilityRequiredMixin(AccessMixin):
    """View mixin: the user must be signed in and have `capability` (403 otherwise)."""

    capability: Capability = Capability.VIEW

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_capability(request.user, self.capability):
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)


class HasCapability(BasePermission):
    """API permission: reads need VIEW, writes need the view's `write_capability`."""

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return has_capability(request.user, getattr(view, "read_capability",
                                                        Capability.VIEW))
        needed = getattr(view, "write_capability", None)
        return needed is not None and has_capability(request.user, needed)
