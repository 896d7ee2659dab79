"""API of the reference data: billing entities, cycles, accounts and jobs."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sewerline.apps.api import inputs, serializers
from sewerline.apps.api.base import ApiViewSet
from sewerline.apps.core.roles import Capability
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.jobs.models import Job
from sewerline.apps.profiles.models import Account

logger = logging.getLogger(__name__)


class EntityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Billing entities: the water utilities that bill the sewer charge."""

    queryset = BillingEntity.objects.order_by("name", "pk")
    serializer_class = serializers.EntitySerializer


@extend_schema_view(list=extend_schema(parameters=[inputs.CycleFilter]))
class CycleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Billing cycles, newest first within each entity."""

    serializer_class = serializers.CycleSerializer
    filter_serializer = inputs.CycleFilter

    def get_queryset(self):
        cycles = BillingCycle.objects.select_related("entity").order_by(
            "entity__name", "-period_end", "-code", "pk")
        filters = self.list_filters()
        if "entity" in filters:
            cycles = cycles.filter(entity_id=filters["entity"])
        return cycles


@extend_schema_view(
    list=extend_schema(parameters=[inputs.AccountFilter]),
    partial_update=extend_schema(request=inputs.AccountUpdateSerializer,
                                 responses=serializers.AccountSerializer),
)
class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Accounts (profiles) of the sewer utility; PATCH changes one and records the change."""

    serializer_class = serializers.AccountSerializer
    filter_serializer = inputs.AccountFilter
    write_capability = Capability.MANAGE_PROFILES

    def get_queryset(self):
        accounts = Account.objects.select_related("entity").order_by("account_id")
        filters = self.list_filters()
        if "search" in filters:
            text = filters["search"]
            accounts = accounts.filter(
                Q(account_id__icontains=text) | Q(water_account__icontains=text)
                | Q(owner_name__icontains=text) | Q(service_address__icontains=text)
                | Q(meter_number__icontains=text)
            )
        if "entity" in filters:
            accounts = accounts.filter(entity_id=filters["entity"])
        if "status" in filters:
            accounts = accounts.filter(status=filters["status"])
        if "customer_class" in filters:
            accounts = accounts.filter(customer_class=filters["customer_class"])
        return accounts

    def partial_update(self, request, pk=None):
        """Change the given fields of one account through the profiles action."""
        from sewerline.apps.profiles.actions import update_account

        account = self.get_object()
        changes = inputs.AccountUpdateSerializer(account, data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        try:
            updated = update_account(request.user, account, **changes.validated_data)
        except DjangoValidationError as error:
            # The model's own checks (full_clean) can still reject a combination of values.
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            raise ValidationError(detail) from error
        logger.info("API: account %s updated by user %s (fields: %s)", updated.pk,
                    request.user.pk, ", ".join(sorted(changes.validated_data)))
        return Response(self.get_serializer(updated).data)


@extend_schema_view(list=extend_schema(parameters=[inputs.JobFilter]))
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Background jobs (imports, audits) with their progress, newest first."""

    serializer_class = serializers.JobSerializer
    filter_serializer = inputs.JobFilter

    def get_queryset(self):
        jobs = Job.objects.order_by("-created_at", "-pk")
        filters = self.list_filters()
        if "status" in filters:
            jobs = jobs.filter(status=filters["status"])
        if "kind" in filters:
            jobs = jobs.filter(kind=filters["kind"])
        return jobs
