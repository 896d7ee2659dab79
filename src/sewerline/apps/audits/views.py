"""Pages of audit runs: the list, the start form, a run with live progress, its findings."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, FormView, ListView

from sewerline.apps.audits.actions import CannotStartAudit, start_audit
from sewerline.apps.audits.forms import StartAuditForm
from sewerline.apps.audits.models import AuditRun, Finding
from sewerline.apps.audits.summary import RunSummary, run_state
from sewerline.apps.core.permissions import CapabilityRequiredMixin
from sewerline.apps.core.roles import Capability
from sewerline.engine.findings import FindingType

logger = logging.getLogger(__name__)

RUN_RELATIONS = ("cycle__entity", "rate_version__schedule", "job", "created_by")


class RunListView(CapabilityRequiredMixin, ListView):
    """Audit runs, newest first."""

    capability = Capability.VIEW
    template_name = "audits/run_list.html"
    context_object_name = "runs"
    paginate_by = 50

    def get_queryset(self):
        return AuditRun.objects.select_related(*RUN_RELATIONS).order_by("-created_at", "-pk")


class StartAuditView(CapabilityRequiredMixin, FormView):
    """Start an audit of a cycle with a published rate version."""

    capability = Capability.RUN_AUDIT
    template_name = "audits/start.html"
    form_class = StartAuditForm

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("cycle", "").isdigit():
            initial["cycle"] = int(self.request.GET["cycle"])
        return initial

    def form_valid(self, form):
        values = form.cleaned_data
        try:
            run = start_audit(
                self.request.user, cycle=values["cycle"], rate_version=values["rate_version"],
                tolerance=values["tolerance"], tolerance_percent=values["tolerance_percent"],
            )
        except CannotStartAudit as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        logger.info("audit run %s started by user %s", run.pk, self.request.user.pk)
        messages.success(self.request, f"Audit of cycle {values['cycle'].code} started.")
        return redirect("audits:run", pk=run.pk)


class RunDetailView(CapabilityRequiredMixin, DetailView):
    """One run: live progress while its job runs, then its totals and chart."""

    capability = Capability.VIEW
    template_name = "audits/run_detail.html"
    context_object_name = "run"

    def get_queryset(self):
        return AuditRun.objects.select_related(*RUN_RELATIONS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.object
        context["state"] = run_state(run)
        if context["state"] == "done":
            context["summary"] = RunSummary.of(run)
        return context


class RunProgressView(RunDetailView):
    """The progress fragment that the run page polls every second.

    When the job has ended, the response carries the HX-Refresh header, so htmx
    reloads the page, which then shows the totals or the error.
    """

    template_name = "audits/_progress.html"

    def get_context_data(self, **kwargs):
        context = super(DetailView, self).get_context_data(**kwargs)
        context["state"] = run_state(self.object)
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if context["state"] in ("done", "failed"):
            response["HX-Refresh"] = "true"
        return response


class FindingListView(CapabilityRequiredMixin, ListView):
    """The findings of one run, largest revenue at stake first, filtered by type."""

    capability = Capability.VIEW
    template_name = "audits/finding_list.html"
    context_object_name = "findings"
    paginate_by = 50

    def get_queryset(self):
        self.run = get_object_or_404(
            AuditRun.objects.select_related(*RUN_RELATIONS), pk=self.kwargs["pk"]
        )
        findings = (
            Finding.objects.filter(run=self.run)
            .select_related("account", "charge", "discrepancy")
            .order_by("-revenue_at_stake", "finding_type", "pk")
        )
        self.finding_type = self.request.GET.get("type", "")
        if self.finding_type in {ftype.value for ftype in FindingType}:
            findings = findings.filter(finding_type=self.finding_type)
        else:
            self.finding_type = ""
        return findings

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["run"] = self.run
        context["finding_type"] = self.finding_type
        context["finding_types"] = [ftype.value for ftype in FindingType]
        return context
