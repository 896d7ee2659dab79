"""API of audits: start a run and follow it, its findings, and the discrepancies."""

from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from sewerline.apps.api import inputs, serializers
from sewerline.apps.api.base import ApiViewSet
from sewerline.apps.api.errors import Conflict
from sewerline.apps.api.schema import VALIDATION_ERROR
from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.core.roles import Capability
from sewerline.apps.discrepancies.models import Discrepancy

logger = logging.getLogger(__name__)


@extend_schema_view(
    list=extend_schema(parameters=[inputs.AuditRunFilter]),
    create=extend_schema(
        request=inputs.AuditStartSerializer,
        responses={
            202: serializers.AuditRunSerializer,
            400: VALIDATION_ERROR,
            409: OpenApiResponse(serializers.ErrorSerializer,
                                 description="The audit cannot start: the cycle has no "
                                 "billed charges or its entity no accounts."),
        },
    ),
)
class AuditRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Audit runs with their totals and job progress, newest first."""

    serializer_class = serializers.AuditRunSerializer
    filter_serializer = inputs.AuditRunFilter
    write_capability = Capability.RUN_AUDIT

    def get_queryset(self):
        runs = AuditRun.objects.select_related("cycle__entity", "job", "created_by")
        runs = runs.order_by("-created_at", "-pk")
        filters = self.list_filters()
        if "cycle" in filters:
            runs = runs.filter(cycle_id=filters["cycle"])
        return runs

    def create(self, request):
        """Start an audit of a cycle with a published rate version; it runs as a job."""
        from sewerline.apps.audits.actions import CannotStartAudit, start_audit

        start = inputs.AuditStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        values = start.validated_data
        try:
            run = start_audit(
                request.user, cycle=values["cycle"], rate_version=values["rate_version"],
                tolerance=values["tolerance"], tolerance_percent=values["tolerance_percent"],
            )
        except CannotStartAudit as error:
            # The request is well formed but the data is not ready (no billed charges,
            # no accounts), so the client has to change the data, not the request.
            raise Conflict(str(error)) from error
        logger.info("API: audit run %s of cycle %s started by user %s",
                    run.pk, values["cycle"].pk, request.user.pk)
        stored = self.get_queryset().get(pk=run.pk)
        return Response(self.get_serializer(stored).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(list=extend_schema(parameters=[inputs.FindingFilter]))
class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Findings of audit runs, largest revenue at stake first."""

    serializer_class = serializers.FindingSerializer
    filter_serializer = inputs.FindingFilter

    def get_queryset(self):
        findings = Finding.objects.select_related("account").order_by(
            "-revenue_at_stake", "pk")
        filters = self.list_filters()
        if "run" in filters:
            findings = findings.filter(run_id=filters["run"])
        if "finding_type" in filters:
            findings = findings.filter(finding_type=filters["finding_type"])
        if "account_id" in filters:
            findings = findings.filter(account__account_id=filters["account_id"])
        if "billed_account" in filters:
            findings = findings.filter(billed_account=filters["billed_account"])
        return findings


@extend_schema_view(list=extend_schema(parameters=[inputs.DiscrepancyFilter]))
class DiscrepancyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Discrepancies across cycles; the detail includes their history."""

    filter_serializer = inputs.DiscrepancyFilter
    write_capability = Capability.REVIEW_DISCREPANCIES

    def get_queryset(self):
        discrepancies = Discrepancy.objects.select_related(
            "entity", "account", "first_cycle", "last_cycle")
        discrepancies = discrepancies.order_by("-revenue_at_stake", "key", "pk")
        if self.action != "list":
            discrepancies = discrepancies.prefetch_related(
                "events__actor", "events__cycle")
        filters = self.list_filters()
        for name in ("status", "finding_type"):
            if name in filters:
                discrepancies = discrepancies.filter(**{name: filters[name]})
        if "entity" in filters:
            discrepancies = discrepancies.filter(entity_id=filters["entity"])
        if "account_id" in filters:
            discrepancies = discrepancies.filter(account__account_id=filters["account_id"])
        return discrepancies

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.DiscrepancySerializer
        return serializers.DiscrepancyDetailSerializer

    @extend_schema(
        request=inputs.StatusChangeSerializer,
        responses={
            200: serializers.DiscrepancyDetailSerializer,
            400: VALIDATION_ERROR,
            409: OpenApiResponse(serializers.ErrorSerializer,
                                 description="The discrepancy's current status does not "
                                 "allow this change."),
        },
    )
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, pk=None):
        """Move the discrepancy to a new status, with an optional note for its history."""
        from sewerline.apps.discrepancies.actions import InvalidTransition, change_status

        discrepancy = self.get_object()
        change = inputs.StatusChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        new_status = change.validated_data["status"]

        try:
            change_status(request.user, [discrepancy], new_status,
                          note=change.validated_data["note"])
        except InvalidTransition as error:
            raise Conflict(str(error)) from error

        logger.info("API: discrepancy %s set to %s by user %s",
                    discrepancy.pk, new_status, request.user.pk)
        stored = self.get_queryset().get(pk=discrepancy.pk)
        return Response(self.get_serializer(stored).data)
