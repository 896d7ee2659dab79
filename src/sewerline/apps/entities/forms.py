"""Forms of the entity pages; saving goes through entities.actions."""

from __future__ import annotations

from django import forms

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity, Contact


class EntityForm(forms.ModelForm):
    class Meta:
        model = BillingEntity
        fields = ["name", "code", "collection_fee_percent", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "role", "receives_reports"]


class CycleForm(forms.ModelForm):
    class Meta:
        model = BillingCycle
        fields = ["code", "period_start", "period_end", "bill_date", "budget"]
        widgets = {name: forms.DateInput(attrs={"type": "date"})
                   for name in ("period_start", "period_end", "bill_date")}
        labels = {"budget": "Budget (USD)"}

    def __init__(self, *args, entity: BillingEntity, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.entity = entity

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise forms.ValidationError("The period ends before it starts; check the dates.")
        return data


class BudgetForm(forms.Form):
    budget = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2,
                                label="Budget (USD)",
                                help_text="Budgeted sewer revenue of the cycle; empty clears it.")
