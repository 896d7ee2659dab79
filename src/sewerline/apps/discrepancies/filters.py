"""Filters, search and sort orders of the discrepancy list, read from the query string."""

from __future__ import annotations

from django import forms
from django.db.models import F, Q, QuerySet

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyStatus
from sewerline.apps.discrepancies.transitions import OPEN_LIKE
from sewerline.apps.entities.models import BillingEntity
from sewerline.engine.findings import FindingType

# Pseudo-status of the filter: every status of a discrepancy still in the billing data.
UNRESOLVED = "unresolved"
UNRESOLVED_STATUSES = tuple(status.value for status in DiscrepancyStatus if status in OPEN_LIKE)

# Age in cycles seen: bucket name -> (fewest, most); None means no upper bound.
AGE_BUCKETS: dict[str, tuple[int, int | None]] = {
    "1": (1, 1),
    "2-3": (2, 3),
    "4-6": (4, 6),
    "7+": (7, None),
}

# Sort choice -> ORDER BY; the primary key last, so pages never overlap or skip rows.
SORTS: dict[str, tuple[str, ...]] = {
    "amount_desc": ("-revenue_at_stake", "-id"),
    "amount_asc": ("revenue_at_stake", "id"),
    "age_desc": ("-cycles_seen", "-revenue_at_stake", "-id"),
    "age_asc": ("cycles_seen", "-revenue_at_stake", "-id"),
    "account_asc": ("key", "id"),
    "account_desc": ("-key", "-id"),
}
DEFAULT_SORT = "amount_desc"

# Columns joined for a list row; every page and export reads them without more queries.
ROW_RELATIONS = ("entity", "account", "first_cycle", "last_cycle")


class DiscrepancyFilterForm(forms.Form):
    """The list's filters; an empty field filters nothing."""

    q = forms.CharField(required=False, max_length=100, label="Search",
                        help_text="Account id, owner name, service address or meter.")
    finding_type = forms.ChoiceField(
        required=False, label="Type",
        choices=[("", "Any type")] + [(t.value, t.value.replace("_", " ").capitalize())
                                      for t in FindingType])
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), (UNRESOLVED, "Unresolved (open to acknowledged)")]
        + list(DiscrepancyStatus.choices))
    entity = forms.ModelChoiceField(required=False, queryset=BillingEntity.objects.all(),
                                    empty_label="Any entity")
    cycle = forms.ModelChoiceField(
        required=False, label="Last seen in",
        queryset=BillingCycle.objects.select_related("entity").order_by(
            "entity__name", F("period_end").desc(nulls_last=True), "-code"),
        empty_label="Any cycle")
    min_amount = forms.DecimalField(required=False, min_value=0, max_digits=14,
                                    decimal_places=2, label="At stake from ($)")
    age = forms.ChoiceField(required=False, label="Cycles seen",
                            choices=[("", "Any age")] + [(k, k) for k in AGE_BUCKETS])
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS],
                             widget=forms.HiddenInput)

    def sort_key(self) -> str:
        """Return the chosen sort order, or the default when none or an invalid one is given."""
        if self.is_valid() and self.cleaned_data.get("sort"):
            return self.cleaned_data["sort"]
        return DEFAULT_SORT


def filter_discrepancies(form: DiscrepancyFilterForm) -> QuerySet[Discrepancy]:
    """Return the discrepancies the form selects, in its sort order, with related rows joined.

    An invalid form selects nothing, so a mistyped amount never shows an unfiltered list
    that looks filtered.
    """
    rows = Discrepancy.objects.select_related(*ROW_RELATIONS)
    if not form.is_valid():
        return rows.none()
    data = form.cleaned_data

    if data["q"].strip():
        rows = rows.filter(search_condition(data["q"].strip()))
    if data["finding_type"]:
        rows = rows.filter(finding_type=data["finding_type"])
    if data["status"] == UNRESOLVED:
        rows = rows.filter(status__in=UNRESOLVED_STATUSES)
    elif data["status"]:
        rows = rows.filter(status=data["status"])
    if data["entity"] is not None:
        rows = rows.filter(entity=data["entity"])
    if data["cycle"] is not None:
        rows = rows.filter(last_cycle=data["cycle"])
    if data["min_amount"] is not None:
        rows = rows.filter(revenue_at_stake__gte=data["min_amount"])
    if data["age"]:
        fewest, most = AGE_BUCKETS[data["age"]]
        rows = rows.filter(cycles_seen__gte=fewest)
        if most is not None:
            rows = rows.filter(cycles_seen__lte=most)

    return rows.order_by(*SORTS[form.sort_key()])


def search_condition(text: str) -> Q:
    """Match text in the discrepancy's key or in its account's id, owner, address or meter."""
    return (Q(key__icontains=text)
            | Q(account__account_id__icontains=text)
            | Q(account__water_account__icontains=text)
            | Q(account__owner_name__icontains=text)
            | Q(account__service_address__icontains=text)
            | Q(account__meter_number__icontains=text))
