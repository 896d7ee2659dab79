"""Discrepancy pages: the filtered list with bulk status change and exports, and one discrepancy."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from sewerline.apps.audits.models import Finding
from sewerline.apps.core.permissions import CapabilityRequiredMixin
from sewerline.apps.core.roles import Capability
from sewerline.apps.discrepancies import actions
from sewerline.apps.discrepancies.exports import (
    csv_response,
    export_file_stem,
    export_rows,
    xlsx_response,
)
from sewerline.apps.discrepancies.filters import (
    ROW_RELATIONS,
    DiscrepancyFilterForm,
    filter_discrepancies,
)
from sewerline.apps.discrepancies.models import Discrepancy, DiscrepancyStatus
from sewerline.apps.discrepancies.transitions import STAFF_TRANSITIONS
from sewerline.apps.rates.explain import explain_account_charge

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
# Statuses staff can set on some discrepancy, in the order of the status list.
SETTABLE_STATUSES = [
    (value, name) for value, name in DiscrepancyStatus.choices
    if any(value in targets for targets in STAFF_TRANSITIONS.values())
]

# Statuses in the order a discrepancy moves through them; reopening and dismissing
# come last so that the usual next step is listed first.
WORKFLOW_ORDER = (
    DiscrepancyStatus.CONFIRMED, DiscrepancyStatus.REPORTED, DiscrepancyStatus.ACKNOWLEDGED,
    DiscrepancyStatus.VERIFIED_CORRECTED, DiscrepancyStatus.CLOSED, DiscrepancyStatus.OPEN,
    DiscrepancyStatus.DISMISSED,
)


def query_without(request, *names: str) -> str:
    """Return the request's query string without the given parameters (for links)."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


class DiscrepancyListView(CapabilityRequiredMixin, View):
    """The discrepancies the filters select, 50 per page, sortable, with bulk actions."""

    capability = Capability.VIEW

    def get(self, request):
        form = DiscrepancyFilterForm(request.GET)
        rows = filter_discrepancies(form)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        sort = form.sort_key()
        return render(request, "discrepancies/list.html", {
            "form": form,
            "page": page,
            "sort": sort,
            "sort_links": _sort_links(request, sort),
            "page_query": query_without(request, "page"),
            "filter_query": query_without(request, "page", "format"),
            "settable_statuses": SETTABLE_STATUSES,
        })


def _sort_links(request, current: str) -> dict[str, str]:
    """Return column -> query string that sorts by it, reversing the current direction."""
    base = query_without(request, "page", "sort")
    links = {}
    for column in ("amount", "age", "account"):
        # Amount and age start with the largest first, the account with A to Z.
        chosen = "account_asc" if column == "account" else f"{column}_desc"
        if current == chosen:
            chosen = chosen.replace("_desc", "_asc") if chosen.endswith("_desc") \
                else chosen.replace("_asc", "_desc")
        links[column] = f"{base}&sort={chosen}" if base else f"sort={chosen}"
    return links


class DiscrepancyExportView(CapabilityRequiredMixin, View):
    """The filtered list (every page) as CSV or XLSX."""

    capability = Capability.EXPORT

    def get(self, request):
        form = DiscrepancyFilterForm(request.GET)
        rows = export_rows(filter_discrepancies(form))
        stem = export_file_stem("discrepancies")
        logger.info("user %s exported discrepancies as %s", request.user.pk,
                    request.GET.get("format", "csv"))
        if request.GET.get("format") == "xlsx":
            return xlsx_response(rows, stem)
        return csv_response(rows, stem)


class BulkStatusView(CapabilityRequiredMixin, View):
    """Set the status of the selected discrepancies, all or none."""

    capability = Capability.REVIEW_DISCREPANCIES

    def post(self, request):
        ids = [value for value in request.POST.getlist("ids") if value.isdigit()]
        new_status = request.POST.get("new_status", "")
        note = request.POST.get("note", "").strip()
        if not ids:
            messages.error(request, "Select at least one discrepancy, then choose a status.")
        else:
            _change_status(request, ids, new_status, note)
        return HttpResponseRedirect(_next_url(request, reverse("discrepancies:list")))


def _change_status(request, discrepancies, new_status: str, note: str) -> None:
    """Call change_status and show its errors as messages on the next page."""
    try:
        changed = actions.change_status(request.user, discrepancies, new_status, note=note)
    except (actions.InvalidTransition, ValueError) as error:
        logger.info("user %s: status change to %r rejected: %s", request.user.pk,
                    new_status, error)
        messages.error(request, f"No status was changed: {error}.")
    except Discrepancy.DoesNotExist as error:
        logger.info("user %s: status change to %r rejected: %s", request.user.pk,
                    new_status, error)
        messages.error(request, "No status was changed: a selected discrepancy no longer "
                                "exists. Reload the list and select again.")
    else:
        label = DiscrepancyStatus(new_status).label
        noun = "discrepancy" if changed == 1 else "discrepancies"
        messages.success(request, f"{changed} {noun} set to “{label}”.")


def _next_url(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


class DiscrepancyDetailView(CapabilityRequiredMixin, View):
    """One discrepancy: findings per cycle, history, the explained expected charge."""

    capability = Capability.VIEW

    def get(self, request, pk: int):
        discrepancy = get_object_or_404(Discrepancy.objects.select_related(*ROW_RELATIONS),
                                        pk=pk)
        findings = latest_finding_per_cycle(
            Finding.objects.filter(discrepancy=discrepancy)
            .select_related("run__cycle", "run__rate_version__schedule", "charge")
            .order_by(F("run__cycle__period_end").desc(nulls_last=True), "-run__cycle__code",
                      "-run__created_at",
                      "-pk")
        )
        latest = findings[0] if findings else None
        explained = None
        if latest is not None and discrepancy.account is not None:
            explained = explain_account_charge(discrepancy.account, latest.charge,
                                               latest.run.rate_version)
        events = discrepancy.events.select_related("actor", "cycle")
        allowed = STAFF_TRANSITIONS.get(discrepancy.status, frozenset())
        next_statuses = [(status.value, status.label) for status in WORKFLOW_ORDER
                         if status in allowed]
        return render(request, "discrepancies/detail.html", {
            "discrepancy": discrepancy,
            "findings": findings,
            "latest": latest,
            "explained": explained,
            "events": events,
            "next_statuses": next_statuses,
        })


def latest_finding_per_cycle(findings) -> list[Finding]:
    """Keep the first finding of each cycle, the newest run's when the query orders so."""
    first_by_cycle: dict[int, Finding] = {}
    for finding in findings:
        first_by_cycle.setdefault(finding.run.cycle_id, finding)
    return list(first_by_cycle.values())


class DiscrepancyStatusView(CapabilityRequiredMixin, View):
    """Set the status of one discrepancy from its page."""

    capability = Capability.REVIEW_DISCREPANCIES

    def post(self, request, pk: int):
        discrepancy = get_object_or_404(Discrepancy, pk=pk)
        new_status = request.POST.get("new_status", "")
        if not new_status:
            messages.error(request, "Choose the new status, then change it.")
        else:
            _change_status(request, [discrepancy], new_status,
                           request.POST.get("note", "").strip())
        return HttpResponseRedirect(reverse("discrepancies:detail", args=[pk]))
