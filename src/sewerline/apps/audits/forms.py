"""The form that starts an audit run."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.rates.models import RateScheduleVersion


class StartAuditForm(forms.Form):
    """Cycle, published rate version and tolerances of a new audit run."""

    cycle = forms.ModelChoiceField(
        queryset=BillingCycle.objects.select_related("entity").order_by(
            "entity__name", "-period_end", "-code"),
        help_text="The billing cycle whose imported bills are audited.",
    )
    rate_version = forms.ModelChoiceField(
        queryset=RateScheduleVersion.objects.filter(published=True)
        .select_related("schedule").order_by("schedule__name", "-effective_date"),
        label="Rate version",
        help_text="Only published rate versions can be used.",
    )
    tolerance = forms.DecimalField(
        initial=Decimal("0.01"), min_value=Decimal(0), max_digits=10, decimal_places=2,
        label="Tolerance (USD)",
        help_text="Largest difference between billed and expected taken as rounding.",
    )
    tolerance_percent = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal(100), max_digits=6,
        decimal_places=3, label="Tolerance (% of expected)",
        help_text="Optional. A difference must also exceed this share of the expected "
                  "amount to be a finding.",
    )
