"""Pages of the import wizard (upload, map, check, store) and the list of imports.

The views are thin: every change goes through `actions`, and the mapping step's
preview and guesses come from `wizard`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import ListView

from sewerline.apps.core.permissions import CapabilityRequiredMixin
from sewerline.apps.core.roles import Capability, has_capability
from sewerline.apps.entities.models import BillingEntity, SavedMapping
from sewerline.apps.imports import actions, wizard
from sewerline.apps.imports.forms import MappingForm, UploadForm, initial_from_mapping
from sewerline.apps.imports.models import ImportBatch, ImportKind, ImportStatus
from sewerline.apps.imports.problems import PROBLEM_KEYS
from sewerline.apps.imports.uploads import (
    SizeLimitUploadHandler,
    content_too_large,
    megabytes,
)
from sewerline.apps.jobs.models import JobStatus
from sewerline.engine.errors import InputError
from sewerline.engine.ingest.mapping import (
    BILLING_DATE_FIELDS,
    SERVICE_CODE,
    USAGE,
    WINTER_AVERAGE,
)

logger = logging.getLogger(__name__)

WIZARD_STEPS = ((1, "Upload"), (2, "Map the columns"), (3, "Check"), (4, "Store"))

# Delimiter choice of the form -> what the engine's reader takes.
_DELIMITERS = {"auto": None, "": None, "tab": "\t"}
# Source of the choices when the page comes back after a failed save.
SUBMITTED = "submitted"


class ImportListView(CapabilityRequiredMixin, ListView):
    """All imports, newest first, filterable by entity, kind and status."""

    capability = Capability.VIEW
    template_name = "imports/list.html"
    context_object_name = "imports"
    paginate_by = 50

    def get_queryset(self):
        imports = (ImportBatch.objects.select_related("entity", "cycle", "created_by")
                   .defer("mapping_text", "summary").order_by("-created_at", "-pk"))
        filters = {name: self.request.GET.get(name) for name in ("entity", "kind", "status")}
        if filters["entity"] and filters["entity"].isdigit():
            imports = imports.filter(entity_id=int(filters["entity"]))
        if filters["kind"] in ImportKind.values:
            imports = imports.filter(kind=filters["kind"])
        if filters["status"] in ImportStatus.values:
            imports = imports.filter(status=filters["status"])
        return imports

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            entities=BillingEntity.objects.only("pk", "name"),
            kinds=ImportKind.choices,
            statuses=ImportStatus.choices,
            selected={name: self.request.GET.get(name, "") for name in
                      ("entity", "kind", "status")},
        )
        return context


@method_decorator(csrf_exempt, name="dispatch")
class UploadView(CapabilityRequiredMixin, View):
    """Step 1: upload a file for an entity (and a cycle, for a billing export).

    CSRF is checked in `post` instead of by the middleware, because the middleware
    would read the whole upload before the size limit handler could be put first.
    """

    capability = Capability.IMPORT_DATA

    def get(self, request):
        initial = {name: request.GET.get(name) for name in ("entity", "cycle", "kind")
                   if request.GET.get(name)}
        return self._render(request, UploadForm(initial=initial))

    def post(self, request):
        limit = settings.UPLOAD_MAX_BYTES
        if content_too_large(request, limit):
            return self._too_large(request, UploadForm(), limit)
        request.upload_handlers.insert(0, SizeLimitUploadHandler(request, limit))
        return csrf_protect(self._store)(request)

    def _store(self, request):
        form = UploadForm(request.POST, request.FILES)
        if getattr(request, "upload_too_large", False):
            return self._too_large(request, form, settings.UPLOAD_MAX_BYTES)
        if not form.is_valid():
            return self._render(request, form)

        data = form.cleaned_data
        try:
            batch = actions.create_import(
                request.user, kind=data["kind"], entity=data["entity"], cycle=data["cycle"],
                uploaded_file=data["file"], force=data["force"],
            )
        except actions.DuplicateImport as duplicate:
            form.add_error(None, f"{duplicate} To import it again, tick 'Import anyway' "
                                 "and choose the file again.")
            return self._render(request, form, duplicate=duplicate.earlier)
        except InputError as error:
            for problem in error.problems:
                form.add_error(None, _problem_sentence(problem.message, problem.hint))
            return self._render(request, form)
        return redirect("imports:map", pk=batch.pk)

    def _too_large(self, request, form, limit: int):
        message = (f"The file is larger than the limit of {megabytes(limit)} MB. Split the "
                   "export into smaller files, or ask the administrator to raise "
                   "SEWERLINE_UPLOAD_MAX_MB.")
        return self._render(request, form, error=message, status=413)

    def _render(self, request, form, *, duplicate=None, error="", status=200):
        return render(request, "imports/upload.html",
                      {"form": form, "duplicate": duplicate, "error": error, "step": 1,
                       "wizard_steps": WIZARD_STEPS}, status=status)


class MappingView(CapabilityRequiredMixin, View):
    """Step 2: show the file's first rows and choose the column of each field."""

    capability = Capability.IMPORT_DATA

    def get(self, request, pk):
        batch = _editable_batch(request, pk)
        if batch is None:
            return redirect("imports:detail", pk=pk)
        initial, rate_codes, source = self._initial(request, batch)
        preview = wizard.read_preview(batch, _posted_encoding(initial),
                                      _DELIMITERS.get(initial.get("delimiter"),
                                                      initial.get("delimiter")))
        _guess_missing(batch, preview, initial, source)
        notes = _drop_unknown_headers(initial, preview.header)
        form = MappingForm(initial=initial, kind=batch.kind, header=preview.header)
        return self._render(request, batch, form, preview, rate_codes, notes, source)

    def post(self, request, pk):
        batch = _editable_batch(request, pk)
        if batch is None:
            return redirect("imports:detail", pk=pk)
        preview = wizard.read_preview(batch, _posted_encoding(request.POST),
                                      _DELIMITERS.get(request.POST.get("delimiter"),
                                                      request.POST.get("delimiter")))
        form = MappingForm(request.POST, kind=batch.kind, header=preview.header)
        if request.POST.get("refresh"):
            # Read the file again with the posted options, keeping the other choices.
            initial = {key: request.POST.get(key) for key in request.POST}
            notes = _drop_unknown_headers(initial, preview.header)
            unbound = MappingForm(initial=initial, kind=batch.kind, header=preview.header)
            return self._render(request, batch, unbound, preview, form.rate_codes(), notes,
                                "the options above")
        if not form.is_valid():
            return self._render(request, batch, form, preview, form.rate_codes(), [],
                                SUBMITTED)

        text = form.mapping_text()
        try:
            batch = actions.set_mapping(request.user, batch, text)
        except actions.ImportStateError as error:
            messages.error(request, str(error))
            return redirect("imports:detail", pk=pk)
        if form.cleaned_data["save_as"]:
            actions.save_mapping(request.user, batch.entity, form.cleaned_data["save_as"], text)
            messages.success(request, f"Mapping saved as '{form.cleaned_data['save_as']}'.")
        actions.start_check(request.user, batch)
        return redirect("imports:detail", pk=pk)

    def _initial(self, request, batch):
        """Return initial values, rate codes and where they come from."""
        saved_id = request.GET.get("saved")
        if saved_id and saved_id.isdigit():
            saved = SavedMapping.objects.filter(entity=batch.entity, pk=int(saved_id)).first()
            if saved is not None and wizard.saved_mapping_fits(saved.text, batch.kind):
                return (*initial_from_mapping(batch.kind, saved.text),
                        f"the saved mapping '{saved.name}'")
        if batch.mapping_text and wizard.saved_mapping_fits(batch.mapping_text, batch.kind):
            return (*initial_from_mapping(batch.kind, batch.mapping_text),
                    "the mapping of this import")
        usable = wizard.saved_mappings(batch)
        if usable:
            return (*initial_from_mapping(batch.kind, usable[0].text),
                    f"the saved mapping '{usable[0].name}'")
        return {}, {}, ""

    def _render(self, request, batch, form, preview, rate_codes, notes, source):
        rate_header = None
        if "column_rate_code" in form.fields:
            rate_header = form["column_rate_code"].value()
            # Choosing another rate code column lists that column's codes in place.
            form.fields["column_rate_code"].widget.attrs.update({
                "hx-get": reverse("imports:rate_codes", args=[batch.pk]),
                "hx-target": "#rate-codes", "hx-swap": "outerHTML",
                # The classes typed so far and the read options; not the CSRF token,
                # which must stay out of URLs.
                "hx-include": "[name^='rate_code_'], [name^='rate_class_'], "
                              "[name^='rate_drop_'], [name='encoding'], [name='delimiter']",
                "hx-trigger": "change",
            })
        service_header = form[f"column_{SERVICE_CODE}"].value() \
            if f"column_{SERVICE_CODE}" in form.fields else None
        service_codes, service_count = preview.values_of(service_header) \
            if service_header else ([], 0)
        context = {
            "batch": batch, "form": form, "preview": preview, "notes": notes,
            "source": source, "step": 2, "wizard_steps": WIZARD_STEPS,
            "saved": wizard.saved_mappings(batch),
            "rate_rows": _rate_rows(preview, rate_header, rate_codes),
            "classes": wizard.published_classes() if batch.kind == ImportKind.BILLING else [],
            "service_codes": service_codes, "service_count": service_count,
            "date_formats": wizard.DATE_FORMATS,
        }
        return render(request, "imports/map.html", context)


class RateCodesView(CapabilityRequiredMixin, View):
    """The rate code table for the chosen column, swapped in by htmx on change."""

    capability = Capability.IMPORT_DATA

    def get(self, request, pk):
        batch = get_object_or_404(ImportBatch, pk=pk, kind=ImportKind.BILLING)
        preview = wizard.read_preview(batch, _posted_encoding(request.GET),
                                      _DELIMITERS.get(request.GET.get("delimiter"),
                                                      request.GET.get("delimiter")))
        form = MappingForm(request.GET, kind=batch.kind, header=preview.header)
        rows = _rate_rows(preview, request.GET.get("column_rate_code"), form.rate_codes())
        return render(request, "imports/_rate_codes.html",
                      {"rate_rows": rows, "classes": wizard.published_classes()})


class ImportDetailView(CapabilityRequiredMixin, View):
    """Steps 3 and 4: the check's outcome (problems or counts), then storing."""

    capability = Capability.VIEW

    def get(self, request, pk):
        batch = get_object_or_404(
            ImportBatch.objects.select_related("entity", "cycle", "created_by"), pk=pk)
        job = actions.latest_job(batch)
        running = job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        checked = (batch.status == ImportStatus.PENDING and bool(batch.summary)
                   and not batch.problems)
        context = {
            "batch": batch, "job": job, "running": running, "checked": checked,
            "editable": batch.status in (ImportStatus.PENDING, ImportStatus.FAILED),
            "can_import": has_capability(request.user, Capability.IMPORT_DATA),
            "problems": batch.problems, "problem_keys": PROBLEM_KEYS,
            "summary": batch.summary, "wizard_steps": WIZARD_STEPS,
            "step": 4 if batch.status == ImportStatus.DONE or (running and job.task.endswith(
                ".run_import")) else 3,
        }
        return render(request, "imports/detail.html", context)


class ProgressView(CapabilityRequiredMixin, View):
    """Render the progress bar of the import's running job, or make htmx reload the page."""

    capability = Capability.VIEW

    def get(self, request, pk):
        batch = get_object_or_404(ImportBatch, pk=pk)
        job = actions.latest_job(batch)
        if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
            response = HttpResponse("")
            response["HX-Refresh"] = "true"
            return response
        return render(request, "imports/_progress.html", {"batch": batch, "job": job})


class CheckView(CapabilityRequiredMixin, View):
    """Start checking the file again with the current mapping."""

    capability = Capability.IMPORT_DATA

    def post(self, request, pk):
        batch = get_object_or_404(ImportBatch, pk=pk)
        try:
            actions.start_check(request.user, batch)
        except actions.ImportStateError as error:
            messages.error(request, str(error))
        return redirect("imports:detail", pk=pk)


class ConfirmView(CapabilityRequiredMixin, View):
    """Step 4: store the checked file."""

    capability = Capability.IMPORT_DATA

    def post(self, request, pk):
        batch = get_object_or_404(ImportBatch, pk=pk)
        try:
            actions.start_import(request.user, batch)
        except actions.ImportStateError as error:
            messages.error(request, str(error))
        return redirect("imports:detail", pk=pk)


def _editable_batch(request, pk) -> ImportBatch | None:
    batch = get_object_or_404(ImportBatch.objects.select_related("entity", "cycle"), pk=pk)
    if batch.status in (ImportStatus.PENDING, ImportStatus.FAILED):
        return batch
    messages.info(request, f"Import {batch.pk} is {batch.get_status_display().lower()}; "
                           "its mapping can no longer change.")
    return None


def _guess_missing(batch, preview, initial: dict, source: str) -> None:
    """Fill the initial choices from header names when nothing else gave them."""
    if source or not preview.header:
        return
    if batch.kind == ImportKind.BILLING:
        columns = wizard.guess_columns(preview.header, wizard.BILLING_SYNONYMS)
        dates = [columns[name] for name in BILLING_DATE_FIELDS if name in columns]
        initial["date_format"] = wizard.guess_date_format(preview, dates[0] if dates else None)
        initial["usage_unit"] = wizard.guess_unit(columns.get(USAGE))
        if SERVICE_CODE in columns:
            initial["layout"] = "per_line"
    else:
        columns = wizard.guess_columns(preview.header, wizard.profile_synonyms())
        initial["winter_average_unit"] = wizard.guess_unit(columns.get(WINTER_AVERAGE)) \
            or "kgal"
    initial.update({f"column_{name}": header for name, header in columns.items()})


def _drop_unknown_headers(initial: dict, header: list[str]) -> list[str]:
    """Remove chosen columns that the file does not have; return a note for each."""
    notes = []
    for key in [key for key in initial if key.startswith("column_")]:
        value = initial[key]
        if value and value not in header:
            notes.append(f"The column '{value}' chosen for {key.removeprefix('column_')} is "
                         "not in this file; choose another.")
            del initial[key]
    return notes


def _rate_rows(preview, header: str | None, rate_codes: dict[str, str]) -> list[dict]:
    """Return one row per rate code: the file's codes, then mapped codes not in the file.

    A code not in the file is kept only with a customer class. Without one it came
    from another column chosen before, and keeping it would fail the save.
    """
    codes, total = preview.values_of(header) if header else ([], 0)
    in_file = set(codes)
    rows = [{"code": code, "customer_class": rate_codes.get(code, ""), "in_file": True}
            for code in codes]
    rows += [{"code": code, "customer_class": customer_class, "in_file": False}
             for code, customer_class in rate_codes.items()
             if code not in in_file and customer_class]
    for index, row in enumerate(rows):
        row["index"] = index
    if total > len(codes):
        rows.append({"more": total - len(codes)})
    return rows


def _posted_encoding(data) -> str | None:
    encoding = data.get("encoding")
    return None if encoding in (None, "", "auto") else encoding


def _problem_sentence(message: str, hint: str | None) -> str:
    text = message[:1].upper() + message[1:]
    return f"{text}. {hint}" if hint else f"{text}."
