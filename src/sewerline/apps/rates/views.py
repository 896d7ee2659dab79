"""Rate pages: schedules, versions, uploads with the engine's problems, and a bill calculator."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db.models import Count, Max, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View

from sewerline.apps.core.permissions import CapabilityRequiredMixin
from sewerline.apps.core.roles import Capability
from sewerline.apps.rates import actions
from sewerline.apps.rates.forms import CalculatorForm, ScheduleForm, VersionUploadForm
from sewerline.apps.rates.models import RateSchedule, RateScheduleVersion
from sewerline.apps.rates.schedules import version_schedule
from sewerline.engine.errors import InputError
from sewerline.engine.rates import explain_bill

logger = logging.getLogger(__name__)


class ScheduleListView(CapabilityRequiredMixin, View):
    """Every rate schedule with its number of versions and newest published version."""

    capability = Capability.VIEW

    def get(self, request):
        schedules = RateSchedule.objects.annotate(
            version_count=Count("versions"),
            published_from=Max("versions__effective_date", filter=Q(versions__published=True)),
        )
        return render(request, "rates/list.html", {"schedules": schedules,
                                                   "form": ScheduleForm()})


class ScheduleCreateView(CapabilityRequiredMixin, View):
    capability = Capability.MANAGE_RATES

    def post(self, request):
        form = ScheduleForm(request.POST)
        if form.is_valid():
            schedule = actions.create_schedule(request.user, **form.cleaned_data)
            messages.success(request, f"Schedule “{schedule.name}” created; upload its "
                                      "first version.")
            return HttpResponseRedirect(reverse("rates:schedule", args=[schedule.pk]))
        schedules = RateSchedule.objects.annotate(version_count=Count("versions"))
        return render(request, "rates/list.html", {"schedules": schedules, "form": form},
                      status=400)


class ScheduleDetailView(CapabilityRequiredMixin, View):
    """One schedule: its versions, and (for MANAGE_RATES) the upload form."""

    capability = Capability.VIEW

    def get(self, request, pk: int):
        schedule = get_object_or_404(RateSchedule, pk=pk)
        return self.page(request, schedule, VersionUploadForm())

    def page(self, request, schedule, form, problems=(), truncated=False, status=200):
        versions = schedule.versions.select_related("uploaded_by").order_by("-effective_date")
        return render(request, "rates/schedule.html", {
            "schedule": schedule, "versions": versions, "form": form,
            "problems": list(problems), "truncated": truncated,
        }, status=status)


class VersionUploadView(ScheduleDetailView):
    """Upload an OWRS file as a new version; the engine's problems are listed on failure."""

    capability = Capability.MANAGE_RATES

    def get(self, request, pk: int):
        return HttpResponseRedirect(reverse("rates:schedule", args=[pk]))

    def post(self, request, pk: int):
        schedule = get_object_or_404(RateSchedule, pk=pk)
        form = VersionUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(request, schedule, form, status=400)
        try:
            version = actions.upload_version(request.user, schedule, form.cleaned_data["file"])
        except InputError as error:
            return self.page(request, schedule, form, error.problems, error.truncated,
                             status=400)
        messages.success(request, f"Version effective {version.effective_date:%b} "
                                  f"{version.effective_date.day}, "
                                  f"{version.effective_date.year} uploaded. Check it with "
                                  "the calculator, then publish it.")
        return HttpResponseRedirect(reverse("rates:version", args=[version.pk]))


class VersionDetailView(CapabilityRequiredMixin, View):
    """One version: classes, the file with line numbers, publish, and the bill calculator."""

    capability = Capability.VIEW

    def get(self, request, pk: int):
        version = get_object_or_404(RateScheduleVersion.objects.select_related("schedule"),
                                    pk=pk)
        try:
            schedule = version_schedule(version)
        except InputError as error:
            return render(request, "rates/version.html", {
                "version": version, "problems": error.problems, "truncated": error.truncated,
                "lines": version.text.splitlines(),
            })

        classes = list(schedule.classes)
        form = CalculatorForm(request.GET if "class_name" in request.GET else None,
                              classes=classes, unit=str(schedule.bill_unit))
        result = calculate(schedule, form) if form.is_bound else None
        context = {"version": version, "schedule": schedule, "form": form, "result": result}
        if request.headers.get("HX-Request"):
            return render(request, "rates/_calculator_result.html", context)

        context.update({
            "lines": version.text.splitlines(),
            "class_inputs": [(name, sorted(schedule.data_columns(name))) for name in classes],
        })
        return render(request, "rates/version.html", context)


def calculate(schedule, form: CalculatorForm) -> dict | None:
    """Explain the bill the form describes; return its trace lines or the problems found."""
    if not form.is_valid():
        return None
    try:
        trace = explain_bill(schedule, form.cleaned_data["class_name"], form.bill_inputs())
    except InputError as error:
        return {"problems": error.problems, "truncated": error.truncated}
    return {"lines": trace.lines(), "total": trace.total}


class VersionPublishView(CapabilityRequiredMixin, View):
    capability = Capability.MANAGE_RATES

    def post(self, request, pk: int):
        version = get_object_or_404(RateScheduleVersion, pk=pk)
        try:
            actions.publish(request.user, version)
        except InputError as error:
            messages.error(request, "Not published: the rate engine no longer accepts this "
                                    f"file. {error.problems[0]}")
        else:
            messages.success(request, "Version published; audits can use it now.")
        return HttpResponseRedirect(reverse("rates:version", args=[pk]))
