"""Shared base of the API's view sets: capability checks, paging, filters and the schema."""

from __future__ import annotations

from rest_framework import viewsets

from sewerline.apps.api.pagination import ApiPagination
from sewerline.apps.api.schema import ApiAutoSchema
from sewerline.apps.core.permissions import HasCapability
from sewerline.apps.core.roles import Capability


class ExplainedCapability(HasCapability):
    """HasCapability whose 403 names the capability that the request needs."""

    def has_permission(self, request, view) -> bool:
        allowed = super().has_permission(request, view)
        if not allowed:
            reading = request.method in ("GET", "HEAD", "OPTIONS")
            needed = getattr(view, "read_capability" if reading else "write_capability", None)
            self.message = (
                f"Your roles do not grant the {needed} capability that this request needs."
                if needed else "This endpoint is read-only.")
        return allowed


class ApiViewSet(viewsets.GenericViewSet):
    """Base of the API's view sets.

    Reads need `read_capability`; every other method needs `write_capability`, and a
    view set that leaves it None accepts no writes (HasCapability returns 403).
    `filter_serializer` validates the list's query parameters.
    """

    permission_classes = [ExplainedCapability]
    read_capability: Capability = Capability.VIEW
    write_capability: Capability | None = None
    pagination_class = ApiPagination
    schema = ApiAutoSchema()
    # Any path segment reaches the view, so an id that is not a number ("0.5") gets
    # the API's JSON 404 instead of Django's HTML page.
    lookup_value_regex = "[^/]+"
    filter_serializer = None

    def list_filters(self) -> dict:
        """Return the list's validated query parameters that were given (400 if invalid)."""
        if self.filter_serializer is None or self.action != "list":
            return {}
        # A plain dict, not the QueryDict: DRF reads a boolean missing from form-style
        # data as False, which would turn "no filter" into "published=false".
        serializer = self.filter_serializer(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return {name: value for name, value in serializer.validated_data.items()
                if value is not None and value != ""}
