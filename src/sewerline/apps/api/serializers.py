"""Serializers of the objects the API returns. Amounts are decimal strings, never floats.

Request bodies and query filters are in inputs.py.
"""

from __future__ import annotations

from rest_framework import serializers

from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyEvent
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.imports.models import ImportBatch
from sewerline.apps.jobs.models import Job
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion


class EntitySerializer(serializers.ModelSerializer):
    class Meta:
        model = BillingEntity
        fields = ["id", "name", "code", "collection_fee_percent", "notes"]


class CycleSerializer(serializers.ModelSerializer):
    entity_code = serializers.CharField(source="entity.code", read_only=True)

    class Meta:
        model = BillingCycle
        fields = ["id", "entity", "entity_code", "code", "period_start", "period_end",
                  "bill_date", "budget"]


class AccountSerializer(serializers.ModelSerializer):
    entity_code = serializers.CharField(source="entity.code", read_only=True)

    class Meta:
        model = Account
        fields = ["id", "account_id", "entity", "entity_code", "water_account", "owner_name",
                  "service_address", "parcel_id", "meter_number", "customer_class",
                  "meter_size", "status", "winter_average", "dwelling_units", "extra",
                  "updated_at"]


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = RateScheduleVersion
        fields = ["id", "effective_date", "file_name", "published"]


class RateScheduleSerializer(serializers.ModelSerializer):
    versions = VersionSummarySerializer(many=True, read_only=True)

    class Meta:
        model = RateSchedule
        fields = ["id", "name", "description", "versions"]


class RateVersionSerializer(serializers.ModelSerializer):
    schedule_name = serializers.CharField(source="schedule.name", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                               allow_null=True)

    class Meta:
        model = RateScheduleVersion
        fields = ["id", "schedule", "schedule_name", "effective_date", "file_name",
                  "published", "uploaded_by", "uploaded_at"]


class RateVersionDetailSerializer(RateVersionSerializer):
    """A version with its rate file text, which the list leaves out for size."""

    class Meta(RateVersionSerializer.Meta):
        fields = [*RateVersionSerializer.Meta.fields, "text"]


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "kind", "status", "progress", "step", "error", "object_type",
                  "object_id", "created_at", "started_at", "finished_at"]


class ImportBatchSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                               allow_null=True)
    problem_count = serializers.SerializerMethodField()
    job = serializers.IntegerField(source="job_id", read_only=True, allow_null=True,
                                   help_text="Latest job that ran or runs this import.")

    class Meta:
        model = ImportBatch
        fields = ["id", "kind", "entity", "cycle", "file_name", "sha256", "size_bytes",
                  "status", "rows_read", "rows_stored", "problem_count", "forced",
                  "created_by", "created_at", "finished_at", "job"]

    def get_problem_count(self, batch: ImportBatch) -> int:
        return len(batch.problems or [])


class StoredProblemSerializer(serializers.Serializer):
    """One problem of an import as stored: the engine's Problem fields, all optional."""

    code = serializers.CharField(required=False, allow_null=True)
    message = serializers.CharField(required=False, allow_null=True)
    file = serializers.CharField(required=False, allow_null=True)
    row = serializers.IntegerField(required=False, allow_null=True)
    line = serializers.IntegerField(required=False, allow_null=True)
    column = serializers.CharField(required=False, allow_null=True)
    value = serializers.CharField(required=False, allow_null=True)
    expected = serializers.CharField(required=False, allow_null=True)
    hint = serializers.CharField(required=False, allow_null=True)


class ImportBatchDetailSerializer(ImportBatchSerializer):
    problems = StoredProblemSerializer(many=True, read_only=True)
    summary = serializers.DictField(
        read_only=True, help_text="Counts and totals of the file as read, as text.")

    class Meta(ImportBatchSerializer.Meta):
        fields = [*ImportBatchSerializer.Meta.fields, "mapping_text", "summary", "problems"]


class AuditRunSerializer(serializers.ModelSerializer):
    """An audit run with its totals and the progress of the job that computes it."""

    cycle_code = serializers.CharField(source="cycle.code", read_only=True)
    entity_code = serializers.CharField(source="cycle.entity.code", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                               allow_null=True)
    job = JobSerializer(read_only=True, allow_null=True)
    totals = serializers.DictField(
        read_only=True, help_text="Counts and revenue at stake by finding type, as text.")

    class Meta:
        model = AuditRun
        fields = ["id", "cycle", "cycle_code", "entity_code", "rate_version", "tolerance",
                  "tolerance_percent", "billed_total", "expected_total", "at_stake_total",
                  "totals", "bills", "profiles", "matched", "created_by", "created_at",
                  "finished_at", "job"]


class FindingSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(source="account.account_id", read_only=True,
                                       allow_null=True, default=None)

    class Meta:
        model = Finding
        fields = ["id", "run", "finding_type", "account", "account_id", "billed_account",
                  "expected_amount", "billed_amount", "difference", "revenue_at_stake",
                  "match_method", "detail", "discrepancy"]


class DiscrepancySerializer(serializers.ModelSerializer):
    entity_code = serializers.CharField(source="entity.code", read_only=True)
    account_id = serializers.CharField(source="account.account_id", read_only=True,
                                       allow_null=True, default=None)
    first_cycle = serializers.CharField(source="first_cycle.code", read_only=True)
    last_cycle = serializers.CharField(source="last_cycle.code", read_only=True)

    class Meta:
        model = Discrepancy
        fields = ["id", "entity", "entity_code", "finding_type", "key", "account",
                  "account_id", "status", "first_cycle", "last_cycle", "cycles_seen",
                  "revenue_at_stake", "recovered", "updated_at"]


class DiscrepancyEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                               allow_null=True)
    cycle = serializers.CharField(source="cycle.code", read_only=True, allow_null=True,
                                  default=None)

    class Meta:
        model = DiscrepancyEvent
        fields = ["at", "actor", "cycle", "old_status", "new_status", "note"]


class DiscrepancyDetailSerializer(DiscrepancySerializer):
    events = DiscrepancyEventSerializer(many=True, read_only=True)

    class Meta(DiscrepancySerializer.Meta):
        fields = [*DiscrepancySerializer.Meta.fields, "events"]


class ProblemSerializer(serializers.Serializer):
    """One problem of an uploaded file (the engine's Problem)."""

    code = serializers.CharField()
    message = serializers.CharField()
    file = serializers.CharField(allow_null=True)
    row = serializers.IntegerField(allow_null=True, help_text="Spreadsheet row, header = 1.")
    line = serializers.IntegerField(allow_null=True, help_text="Line of a YAML file.")
    column = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    expected = serializers.CharField(allow_null=True)
    hint = serializers.CharField(allow_null=True)


class InputErrorSerializer(serializers.Serializer):
    """Body of the 400 response to a file that the engine rejected."""

    detail = serializers.CharField()
    problems = ProblemSerializer(many=True)
    truncated = serializers.BooleanField(
        help_text="True when more problems were found than listed.")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
