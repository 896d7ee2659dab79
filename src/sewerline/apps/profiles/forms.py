"""Forms of the profile pages: list filters and the account edit form."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q, QuerySet

from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.profiles.models import Account, Status
from sewerline.apps.rates.schedules import published_classes

# One extra column per line: name=value, e.g. outside_city=true.
EXTRA_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class ProfileFilterForm(forms.Form):
    """Search and filters of the profile list; an empty field filters nothing."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    entity = forms.ModelChoiceField(required=False, queryset=BillingEntity.objects.all(),
                                    empty_label="Any entity")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    customer_class = forms.CharField(required=False, max_length=60, label="Class")


def filter_accounts(form: ProfileFilterForm) -> QuerySet[Account]:
    """Return the accounts the form selects, by account id, with the entity joined.

    The search matches the account id, water account, owner, service address, meter
    and parcel. An invalid form selects nothing.
    """
    accounts = Account.objects.select_related("entity").order_by("account_id")
    if not form.is_valid():
        return accounts.none()
    data = form.cleaned_data
    text = data["q"].strip()
    if text:
        accounts = accounts.filter(
            Q(account_id__icontains=text) | Q(water_account__icontains=text)
            | Q(owner_name__icontains=text) | Q(service_address__icontains=text)
            | Q(meter_number__icontains=text) | Q(parcel_id__icontains=text))
    if data["entity"] is not None:
        accounts = accounts.filter(entity=data["entity"])
    if data["status"]:
        accounts = accounts.filter(status=data["status"])
    if data["customer_class"].strip():
        accounts = accounts.filter(customer_class__iexact=data["customer_class"].strip())
    return accounts


class AccountForm(forms.ModelForm):
    """The fields staff may edit; saving goes through profiles.actions.update_account."""

    extra_text = forms.CharField(
        required=False, label="Other rate inputs", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line as name=value, e.g. outside_city=true. Rate formulas read "
                  "them under these names.")
    note = forms.CharField(required=False, max_length=500, label="Reason for the change",
                           help_text="Stored with the change record.")

    class Meta:
        model = Account
        fields = ["water_account", "owner_name", "service_address", "parcel_id",
                  "meter_number", "customer_class", "meter_size", "status",
                  "winter_average", "dwelling_units"]
        labels = {"winter_average": "Winter average (kgal a month)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        extra = self.instance.extra or {}
        self.fields["extra_text"].initial = "\n".join(
            f"{name}={extra[name]}" for name in sorted(extra))
        self.known_classes = published_classes()
        if self.known_classes:
            self.fields["customer_class"].help_text = (
                "Classes of the published rate schedules: " + ", ".join(self.known_classes))

    def clean_customer_class(self) -> str:
        value = self.cleaned_data["customer_class"].strip()
        if self.known_classes and value not in self.known_classes:
            raise forms.ValidationError(
                f"Class {value} is not in any published rate schedule, so an audit could "
                f"not rate this account. Choose one of: {', '.join(self.known_classes)}.")
        return value

    def clean_extra_text(self) -> dict[str, str]:
        extra: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["extra_text"].splitlines(), start=1):
            if not line.strip():
                continue
            match = EXTRA_LINE.match(line)
            if match is None:
                raise forms.ValidationError(
                    f"Line {number} ({line.strip()!r}) is not name=value; write for example "
                    "outside_city=true.")
            extra[match[1].lower()] = match[2]
        return extra

    def changes(self) -> dict:
        """Return the edited values as keyword arguments of update_account."""
        values = {name: self.cleaned_data[name] for name in self.Meta.fields}
        values["extra"] = self.cleaned_data["extra_text"]
        return values
