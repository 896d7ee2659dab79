"""The OpenAPI document: the error responses of every operation, and the schema endpoint."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView

from sewerline.apps.api.serializers import ErrorSerializer
from sewerline.apps.core.permissions import HasCapability
from sewerline.apps.core.roles import Capability

# Names of the enums that would otherwise get hashed names, because several models
# have a `status` with different choices.
ENUM_NAMES = {
    "AccountStatusEnum": "sewerline.apps.profiles.models.Status",
    "ImportStatusEnum": "sewerline.apps.imports.models.ImportStatus",
    "ImportKindEnum": "sewerline.apps.imports.models.ImportKind",
    "JobStatusEnum": "sewerline.apps.jobs.models.JobStatus",
    "DiscrepancyStatusEnum": "sewerline.apps.discrepancies.models.DiscrepancyStatus",
}

VALIDATION_ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid request: field name -> list of messages, or for a rejected file "
    "`detail`, `problems` (the file's problems with row, line, column and value) and "
    "`truncated`.",
)


ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Primary key of the object.")


class ApiAutoSchema(AutoSchema):
    """Documents the error responses of each operation next to its success response.

    Every operation can return 401 and 403. Lists and writes can return 400 (a bad
    filter or body), and lists (a page past the end) and operations on one object can
    return 404. Codes that an operation declares itself (409, 413) are kept.
    """

    def get_override_parameters(self):
        # The routes accept any path segment as the id, so that "abc" gets a JSON 404.
        # drf-spectacular would then document the id as a string, but ids are integers.
        parameters = list(super().get_override_parameters())
        if "{id}" in self.path:
            parameters.append(ID_PARAMETER)
        return parameters

    def _get_response_bodies(self, direction="response"):
        # NOTE: overrides a private method of drf-spectacular 0.30, the one that builds
        # the responses object; recheck it when upgrading drf-spectacular.
        responses = super()._get_response_bodies(direction)
        errors = {
            "401": "Not authenticated: send a token or a session cookie.",
            "403": "The user's roles do not grant the capability this operation needs.",
        }
        if self._is_list_view() or self.method != "GET":
            responses.setdefault("400", self._get_response_for_code(
                VALIDATION_ERROR, "400", direction=direction))
        if self._is_list_view() or "{" in self.path:
            errors["404"] = "Not found: no such object, or no such page of the list."
        for code, description in errors.items():
            responses.setdefault(code, self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=description), code,
                direction=direction))
        return responses


# The document leaves itself out: it is no operation on Sewerline's data.
@extend_schema_view(get=extend_schema(exclude=True))
class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document of the API (JSON with ?format=json, YAML otherwise)."""

    permission_classes = [HasCapability]
    read_capability = Capability.VIEW
    # Request bodies get their own components, so uploads are documented as binary
    # files and read-only fields do not appear as inputs.
    custom_settings = {
        "COMPONENT_SPLIT_REQUEST": True,
        "ENUM_NAME_OVERRIDES": ENUM_NAMES,
    }
