"""Request bodies and list filters of the API, validated before any action runs.

Query filters are serializers too, so a bad value (`?run=abc`) is a 400 naming the
parameter instead of a database error, and the OpenAPI document lists every filter.
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.models import DiscrepancyStatus
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.imports.models import ImportKind, ImportStatus
from sewerline.apps.jobs.models import JobStatus
from sewerline.apps.profiles.models import Account, Status
from sewerline.apps.rates.models import RateScheduleVersion
from sewerline.engine.findings import FindingType

# Largest primary key of a 64-bit integer column; larger numbers cannot name a row.
MAX_ID = 2**63 - 1


def id_field(help_text: str) -> serializers.IntegerField:
    """Return an optional filter on a primary key."""
    return serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                    help_text=help_text)


# ---- list filters -------------------------------------------------------------------

class CycleFilter(serializers.Serializer):
    entity = id_field("Only cycles of this billing entity (id).")


class AccountFilter(serializers.Serializer):
    search = serializers.CharField(
        required=False, max_length=200,
        help_text="Text contained in the account id, water account, owner name, service "
        "address or meter number (case-insensitive).")
    entity = id_field("Only accounts of this billing entity (id).")
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    customer_class = serializers.CharField(required=False, max_length=60)


class RateVersionFilter(serializers.Serializer):
    schedule = id_field("Only versions of this rate schedule (id).")
    published = serializers.BooleanField(required=False, allow_null=True, default=None)


class ImportFilter(serializers.Serializer):
    entity = id_field("Only imports for this billing entity (id).")
    cycle = id_field("Only imports into this billing cycle (id).")
    kind = serializers.ChoiceField(choices=ImportKind.choices, required=False)
    status = serializers.ChoiceField(choices=ImportStatus.choices, required=False)


class AuditRunFilter(serializers.Serializer):
    cycle = id_field("Only runs of this billing cycle (id).")


class FindingFilter(serializers.Serializer):
    run = id_field("Only findings of this audit run (id).")
    finding_type = serializers.ChoiceField(
        choices=[t.value for t in FindingType], required=False)
    account_id = serializers.CharField(
        required=False, max_length=40, help_text="The sewer utility's account id, exactly.")
    billed_account = serializers.CharField(
        required=False, max_length=40,
        help_text="The water utility's account number on the bill, exactly.")


class DiscrepancyFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=DiscrepancyStatus.choices, required=False)
    finding_type = serializers.ChoiceField(
        choices=[t.value for t in FindingType], required=False)
    entity = id_field("Only discrepancies with this billing entity (id).")
    account_id = serializers.CharField(
        required=False, max_length=40, help_text="The sewer utility's account id, exactly.")


class JobFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=JobStatus.choices, required=False)
    kind = serializers.CharField(required=False, max_length=40)


# ---- request bodies -----------------------------------------------------------------

class ScalarJSONField(serializers.JSONField):
    """The `extra` columns of an account: an object of text, number, boolean or null."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected an object of column name -> value.")
        for name, item in value.items():
            if isinstance(item, dict | list):
                raise serializers.ValidationError(
                    f"Column {name!r} contains a list or an object; use text, a number, true, "
                    "false or null.")
        return value


class AccountUpdateSerializer(serializers.ModelSerializer):
    """Fields of an account that PATCH may change; the account id itself is fixed."""

    extra = ScalarJSONField(required=False)

    class Meta:
        model = Account
        fields = ["water_account", "owner_name", "service_address", "parcel_id",
                  "meter_number", "customer_class", "meter_size", "status",
                  "winter_average", "dwelling_units", "extra"]
        extra_kwargs = {
            "winter_average": {"min_value": Decimal("0")},
            "dwelling_units": {"min_value": Decimal("0")},
        }

    def to_internal_value(self, data):
        # A field that cannot be changed here is an error, not silently dropped, so a
        # client that sends account_id or entity learns that nothing changed them.
        if hasattr(data, "keys"):
            fixed = sorted(set(data.keys()) - set(self.fields))
            if fixed:
                raise serializers.ValidationError(
                    {name: "This field cannot be changed through the API." for name in fixed})
        return super().to_internal_value(data)


class RateVersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The OWRS rate file (YAML).")


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The billing export or profile file (CSV or XLSX).")
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    entity = serializers.PrimaryKeyRelatedField(queryset=BillingEntity.objects.all())
    cycle = serializers.PrimaryKeyRelatedField(
        queryset=BillingCycle.objects.all(), required=False, allow_null=True,
        help_text="The billing cycle of a billing export; required for kind=billing.")
    mapping_text = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200_000,
        trim_whitespace=False,
        help_text="The mapping YAML of the file's columns.")
    force = serializers.BooleanField(
        required=False, default=False,
        help_text="Import the file even though the same file was imported before.")

    def validate(self, attrs):
        cycle = attrs.get("cycle")
        if attrs["kind"] == ImportKind.BILLING and cycle is None:
            raise serializers.ValidationError({"cycle": "A billing export needs its cycle."})
        if cycle is not None and cycle.entity_id != attrs["entity"].pk:
            raise serializers.ValidationError(
                {"cycle": f"Cycle {cycle.pk} belongs to another billing entity."})
        return attrs


class AuditStartSerializer(serializers.Serializer):
    cycle = serializers.PrimaryKeyRelatedField(queryset=BillingCycle.objects.all())
    rate_version = serializers.PrimaryKeyRelatedField(
        queryset=RateScheduleVersion.objects.all(),
        help_text="A published version of a rate schedule.")
    tolerance = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), default=Decimal("0.01"),
        help_text="Largest difference treated as rounding, USD.")
    tolerance_percent = serializers.DecimalField(
        max_digits=6, decimal_places=3, min_value=Decimal("0"), max_value=Decimal("100"),
        required=False, allow_null=True, default=None,
        help_text="Also treat differences up to this percent of the expected amount as "
        "rounding.")

    def validate_rate_version(self, version: RateScheduleVersion) -> RateScheduleVersion:
        if not version.published:
            raise serializers.ValidationError(
                f"Rate version {version.pk} is not published; publish it before auditing.")
        return version


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DiscrepancyStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 max_length=5000)
