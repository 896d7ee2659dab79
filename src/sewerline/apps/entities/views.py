"""Billing entity pages: list, detail with contacts, mappings and cycles, and their edits."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View

from sewerline.apps.core.permissions import CapabilityRequiredMixin
from sewerline.apps.core.roles import Capability
from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.discrepancies.filters import UNRESOLVED_STATUSES
from sewerline.apps.discrepancies.models import Discrepancy
from sewerline.apps.entities import actions
from sewerline.apps.entities.forms import BudgetForm, ContactForm, CycleForm, EntityForm
from sewerline.apps.entities.models import BillingEntity, Contact, SavedMapping
from sewerline.apps.entities.queries import NEWEST_FIRST, count_of, with_latest_run
from sewerline.apps.profiles.models import Account

logger = logging.getLogger(__name__)


class EntityListView(CapabilityRequiredMixin, View):
    capability = Capability.VIEW

    def get(self, request):
        entities = BillingEntity.objects.annotate(
            account_count=count_of(Account.objects.all(), "entity"),
            cycle_count=count_of(BillingCycle.objects.all(), "entity"),
            unresolved_count=count_of(
                Discrepancy.objects.filter(status__in=UNRESOLVED_STATUSES), "entity"),
        )
        return render(request, "entities/list.html", {"entities": entities})


class EntityDetailView(CapabilityRequiredMixin, View):
    """An entity's contacts, saved mappings and cycles with budget and audit totals."""

    capability = Capability.VIEW

    def get(self, request, pk: int):
        entity = get_object_or_404(BillingEntity, pk=pk)
        cycles = with_latest_run(entity.cycles.all()).order_by(NEWEST_FIRST, "-code")
        return render(request, "entities/detail.html", {
            "entity": entity,
            "contacts": entity.contacts.all(),
            "mappings": entity.mappings.all(),
            "cycles": cycles,
            "cycle_form": CycleForm(entity=entity),
        })


class EntityFormView(CapabilityRequiredMixin, View):
    """Create an entity (no pk) or edit one."""

    capability = Capability.MANAGE_PROFILES

    def get(self, request, pk: int | None = None):
        entity = get_object_or_404(BillingEntity, pk=pk) if pk else None
        return self._render(request, EntityForm(instance=entity), entity)

    def post(self, request, pk: int | None = None):
        entity = get_object_or_404(BillingEntity, pk=pk) if pk else None
        form = EntityForm(request.POST, instance=entity)
        if form.is_valid():
            try:
                saved = actions.save_entity(request.user, entity, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"{saved.name} saved.")
                return HttpResponseRedirect(reverse("entities:detail", args=[saved.pk]))
        return self._render(request, form, entity)

    def _render(self, request, form, entity):
        return render(request, "entities/form.html", {
            "form": form, "entity": entity,
            "title": f"Edit {entity.name}" if entity else "New billing entity",
        })


class ContactFormView(CapabilityRequiredMixin, View):
    """Add a contact to an entity (no contact pk) or edit one."""

    capability = Capability.MANAGE_PROFILES

    def get(self, request, pk: int, contact_pk: int | None = None):
        entity, contact = self._objects(pk, contact_pk)
        return self._render(request, ContactForm(instance=contact), entity, contact)

    def post(self, request, pk: int, contact_pk: int | None = None):
        entity, contact = self._objects(pk, contact_pk)
        form = ContactForm(request.POST, instance=contact)
        if form.is_valid():
            try:
                actions.save_contact(request.user, entity, contact, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Contact saved.")
                return HttpResponseRedirect(reverse("entities:detail", args=[entity.pk]))
        return self._render(request, form, entity, contact)

    def _objects(self, pk, contact_pk):
        entity = get_object_or_404(BillingEntity, pk=pk)
        contact = get_object_or_404(Contact, pk=contact_pk, entity=entity) if contact_pk else None
        return entity, contact

    def _render(self, request, form, entity, contact):
        title = f"Edit contact {contact.name}" if contact else f"New contact at {entity.name}"
        return render(request, "entities/form.html",
                      {"form": form, "entity": entity, "title": title, "contact": contact})


class ContactDeleteView(CapabilityRequiredMixin, View):
    capability = Capability.MANAGE_PROFILES

    def post(self, request, pk: int, contact_pk: int):
        contact = get_object_or_404(Contact, pk=contact_pk, entity_id=pk)
        actions.delete_contact(request.user, contact)
        messages.success(request, "Contact deleted.")
        return HttpResponseRedirect(reverse("entities:detail", args=[pk]))


class MappingDetailView(CapabilityRequiredMixin, View):
    """A saved column mapping's YAML, read-only."""

    capability = Capability.VIEW

    def get(self, request, pk: int, mapping_pk: int):
        mapping = get_object_or_404(SavedMapping.objects.select_related("entity"),
                                    pk=mapping_pk, entity_id=pk)
        return render(request, "entities/mapping.html",
                      {"mapping": mapping, "lines": mapping.text.splitlines()})


class CycleCreateView(CapabilityRequiredMixin, View):
    capability = Capability.RUN_AUDIT

    def post(self, request, pk: int):
        entity = get_object_or_404(BillingEntity, pk=pk)
        form = CycleForm(request.POST, entity=entity)
        if form.is_valid():
            try:
                cycle = actions.create_cycle(request.user, entity, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Cycle {cycle.code} added.")
                return HttpResponseRedirect(reverse("entities:detail", args=[pk]))
        return render(request, "entities/form.html", {
            "form": form, "entity": entity, "title": f"New cycle of {entity.name}",
        }, status=400)


class BudgetEditView(CapabilityRequiredMixin, View):
    """Set a cycle's budget, so the dashboard compares billed with budgeted revenue."""

    capability = Capability.RUN_AUDIT

    def get(self, request, pk: int, cycle_pk: int):
        cycle = get_object_or_404(BillingCycle.objects.select_related("entity"),
                                  pk=cycle_pk, entity_id=pk)
        return self._render(request, BudgetForm(initial={"budget": cycle.budget}), cycle)

    def post(self, request, pk: int, cycle_pk: int):
        cycle = get_object_or_404(BillingCycle.objects.select_related("entity"),
                                  pk=cycle_pk, entity_id=pk)
        form = BudgetForm(request.POST)
        if form.is_valid():
            actions.set_budget(request.user, cycle, form.cleaned_data["budget"])
            messages.success(request, f"Budget of {cycle.code} saved.")
            return HttpResponseRedirect(reverse("entities:detail", args=[pk]))
        return self._render(request, form, cycle)

    def _render(self, request, form, cycle):
        return render(request, "entities/form.html", {
            "form": form, "entity": cycle.entity,
            "title": f"Budget of {cycle.entity.name} cycle {cycle.code}",
        })
