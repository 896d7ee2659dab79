"""API of rate schedules and their versions: list, upload a version, publish it."""

from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from sewerline.apps.api import inputs, serializers
from sewerline.apps.api.base import ApiViewSet
from sewerline.apps.api.errors import check_upload_size, input_error_response
from sewerline.apps.api.schema import VALIDATION_ERROR
from sewerline.apps.core.roles import Capability
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion
from sewerline.engine.errors import InputError

logger = logging.getLogger(__name__)


class RateScheduleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Rate schedules with a summary of their versions."""

    queryset = RateSchedule.objects.prefetch_related("versions").order_by("name", "pk")
    serializer_class = serializers.RateScheduleSerializer
    write_capability = Capability.MANAGE_RATES

    @extend_schema(
        request={"multipart/form-data": inputs.RateVersionUploadSerializer},
        responses={
            201: serializers.RateVersionDetailSerializer,
            400: VALIDATION_ERROR,
            413: OpenApiResponse(serializers.ErrorSerializer,
                                 description="The file is larger than the upload limit."),
        },
    )
    @action(detail=True, methods=["post"], url_path="versions",
            parser_classes=[MultiPartParser])
    def upload_version(self, request, pk=None):
        """Upload a new version of the schedule; the rate engine validates it first."""
        from sewerline.apps.rates.actions import upload_version

        schedule = self.get_object()
        upload = inputs.RateVersionUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        uploaded_file = upload.validated_data["file"]
        check_upload_size(uploaded_file)

        try:
            version = upload_version(request.user, schedule, uploaded_file)
        except InputError as error:
            logger.info("API: rate file for schedule %s rejected with %d problems",
                        schedule.pk, len(error.problems))
            return input_error_response(error, "The rate file")

        logger.info("API: rate version %s of schedule %s uploaded by user %s",
                    version.pk, schedule.pk, request.user.pk)
        body = serializers.RateVersionDetailSerializer(version).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(parameters=[inputs.RateVersionFilter]))
class RateVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Versions of every rate schedule; the detail includes the rate file text."""

    filter_serializer = inputs.RateVersionFilter
    write_capability = Capability.MANAGE_RATES

    def get_queryset(self):
        versions = RateScheduleVersion.objects.select_related("schedule", "uploaded_by")
        versions = versions.order_by("schedule__name", "-effective_date", "pk")
        filters = self.list_filters()
        if "schedule" in filters:
            versions = versions.filter(schedule_id=filters["schedule"])
        if "published" in filters:
            versions = versions.filter(published=filters["published"])
        return versions

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.RateVersionSerializer
        return serializers.RateVersionDetailSerializer

    @extend_schema(request=None, responses={200: serializers.RateVersionDetailSerializer,
                                            400: VALIDATION_ERROR})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish the version, so audits may use it; publishing it again changes nothing."""
        from sewerline.apps.rates.actions import publish

        version = self.get_object()
        try:
            publish(request.user, version)
        except InputError as error:
            # The engine validates the text again and may have become stricter since
            # the upload.
            return input_error_response(error, "The rate file")
        logger.info("API: rate version %s published by user %s", version.pk, request.user.pk)
        version.refresh_from_db()
        return Response(serializers.RateVersionDetailSerializer(version).data)
