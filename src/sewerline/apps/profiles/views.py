"""Account pages: the searchable list, one account's history, the edit form and exports."""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View

from sewerline.apps.audits.models import Finding
from sewerline.apps.core.models import ChangeRecord
from sewerline.apps.core.permissions import CapabilityRequiredMixin
from sewerline.apps.core.roles import Capability
from sewerline.apps.discrepancies.exports import csv_response, export_file_stem, xlsx_response
from sewerline.apps.discrepancies.views import PAGE_SIZE, query_without
from sewerline.apps.imports.models import BilledCharge
from sewerline.apps.profiles.actions import update_account
from sewerline.apps.profiles.forms import AccountForm, ProfileFilterForm, filter_accounts
from sewerline.apps.profiles.models import Account
from sewerline.apps.rates.explain import explain_account_charge
from sewerline.engine.report.chart import render_line_chart
from sewerline.engine.report.formatting import format_usd

logger = logging.getLogger(__name__)

THOUSAND = Decimal(1000)
EXPORT_HEADERS = (
    "account_id", "entity", "water_account", "owner_name", "service_address", "parcel_id",
    "meter_number", "customer_class", "meter_size", "status", "winter_average_kgal",
    "dwelling_units", "extra",
)


class ProfileListView(CapabilityRequiredMixin, View):
    """The accounts the search selects, 50 per page."""

    capability = Capability.VIEW

    def get(self, request):
        form = ProfileFilterForm(request.GET)
        page = Paginator(filter_accounts(form), PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, "profiles/list.html", {
            "form": form,
            "page": page,
            "page_query": query_without(request, "page"),
            "filter_query": query_without(request, "page", "format"),
        })


class ProfileExportView(CapabilityRequiredMixin, View):
    """The searched accounts (every page) as CSV or XLSX."""

    capability = Capability.EXPORT

    def get(self, request):
        rows = export_rows(filter_accounts(ProfileFilterForm(request.GET)))
        stem = export_file_stem("profiles")
        logger.info("user %s exported profiles as %s", request.user.pk,
                    request.GET.get("format", "csv"))
        if request.GET.get("format") == "xlsx":
            return xlsx_response(rows, stem, headers=EXPORT_HEADERS, money_headers=set(),
                                 sheet_name="Profiles")
        return csv_response(rows, stem, headers=EXPORT_HEADERS, money_headers=set())


def export_rows(accounts):
    """Yield one row of EXPORT_HEADERS cells per account."""
    for account in accounts.iterator(chunk_size=2000):
        extra = account.extra or {}
        yield (
            account.account_id, account.entity.code, account.water_account,
            account.owner_name, account.service_address, account.parcel_id,
            account.meter_number, account.customer_class, account.meter_size,
            account.status, account.winter_average, account.dwelling_units,
            "; ".join(f"{name}={extra[name]}" for name in sorted(extra)),
        )


class AccountDetailView(CapabilityRequiredMixin, View):
    """One account: profile, change history, billing history with charts, findings."""

    capability = Capability.VIEW

    def get(self, request, pk: int):
        account = get_object_or_404(Account.objects.select_related("entity"), pk=pk)
        charges = list(account_charges(account))
        findings = list(
            Finding.objects.filter(account=account)
            .select_related("run__cycle", "discrepancy")
            .order_by(F("run__cycle__period_end").desc(nulls_last=True), "-run__cycle__code",
                      "-run__created_at")
        )
        latest_finding = {}
        for finding in findings:
            if finding.charge_id is not None:
                latest_finding.setdefault(finding.charge_id, finding)
        history = [(charge, latest_finding.get(charge.pk)) for charge in charges]

        latest_charge = charges[-1] if charges else None
        return render(request, "profiles/detail.html", {
            "account": account,
            "history": list(reversed(history)),
            "findings": findings,
            "discrepancies": account.discrepancies.select_related("last_cycle")
            .order_by("-revenue_at_stake"),
            "changes": ChangeRecord.objects.filter(
                object_type=Account._meta.label_lower, object_id=str(account.pk))
            .select_related("actor"),
            "charts": billing_charts(account, charges),
            "explained": explain_account_charge(account, latest_charge),
            "latest_charge": latest_charge,
        })


def account_charges(account: Account):
    """Return the account's billed charges, oldest cycle first.

    A charge belongs to the account when it bills the account's water account number in
    one of the entity's cycles, or when an audit finding linked it to the account (by
    meter, parcel or address, after the account number changed).
    """
    linked = Finding.objects.filter(account=account, charge__isnull=False).values("charge_id")
    condition = Q(pk__in=linked)
    if account.water_account:
        condition |= Q(billed_account=account.water_account, cycle__entity=account.entity_id)
    # Cycles without an end date sort first on every database, so "latest" is the same.
    return (BilledCharge.objects.filter(condition).select_related("cycle")
            .order_by(F("cycle__period_end").asc(nulls_first=True), "cycle__code",
                      F("bill_date").asc(nulls_first=True), "pk"))


def billing_charts(account: Account, charges: list[BilledCharge]) -> dict[str, str]:
    """Render usage (kgal) and the billed sewer charge per cycle as two SVG line charts.

    Two bills in one cycle (a duplicate bill) are added up, as the customer paid both.
    """
    usage: dict[str, Decimal | None] = {}
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for charge in charges:
        code = charge.cycle.code
        billed[code] += charge.billed_amount
        if charge.usage_gal is not None:
            usage[code] = usage.get(code, Decimal(0)) + charge.usage_gal / THOUSAND
        else:
            usage.setdefault(code, None)
    cycles = list(billed)
    if not cycles:
        return {}
    return {
        "usage": render_line_chart(
            cycles, [("Usage (kgal)", [usage[code] for code in cycles])],
            title=f"Water usage of account {account.account_id} per cycle",
            description="Metered usage in thousand gallons for cycles "
                        f"{cycles[0]} to {cycles[-1]}; the table below lists every value.",
            chart_id="usage-chart", value_format=_kgal_text),
        "charges": render_line_chart(
            cycles, [("Billed sewer charge", [billed[code] for code in cycles])],
            title=f"Sewer charge billed to account {account.account_id} per cycle",
            description=f"Billed sewer charge in dollars for cycles {cycles[0]} to "
                        f"{cycles[-1]}; the table below lists every value.",
            chart_id="charge-chart", value_format=format_usd),
    }


def _kgal_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):,}"


class AccountEditView(CapabilityRequiredMixin, View):
    """Edit an account's profile; each save writes a change record with old and new values."""

    capability = Capability.MANAGE_PROFILES

    def get(self, request, pk: int):
        account = get_object_or_404(Account.objects.select_related("entity"), pk=pk)
        return self._render(request, AccountForm(instance=account))

    def post(self, request, pk: int):
        account = get_object_or_404(Account.objects.select_related("entity"), pk=pk)
        form = AccountForm(request.POST, instance=account)
        if form.is_valid():
            try:
                update_account(request.user, account, note=form.cleaned_data["note"],
                               **form.changes())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Account {account.account_id} saved.")
                return HttpResponseRedirect(reverse("profiles:detail", args=[pk]))
        return self._render(request, form)

    def _render(self, request, form: AccountForm):
        return render(request, "profiles/edit.html", {"form": form, "account": form.instance})
