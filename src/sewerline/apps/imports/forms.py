"""Forms of the import wizard: the upload, and the column mapping of each kind of file."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings

from sewerline.apps.cycles.models import BillingCycle
from sewerline.apps.entities.models import BillingEntity
from sewerline.apps.imports.mappings import (
    billing_mapping_text,
    load_billing_mapping,
    load_profile_mapping,
    profile_mapping_text,
)
from sewerline.apps.imports.models import ImportKind
from sewerline.engine.errors import InputError
from sewerline.engine.ingest import Layout
from sewerline.engine.ingest.mapping import (
    BILLING_FIELDS,
    PROFILE_FIELDS,
    SERVICE_CODE,
)
from sewerline.engine.ingest.tables import CSV_SUFFIXES, EXCEL_SUFFIXES
from sewerline.engine.units import UsageUnit

# Most rate codes accepted in one mapping form.
MAX_RATE_CODES = 500

FIELD_LABELS = {
    "billed_account": "Account number",
    "customer_name": "Customer name",
    "service_address": "Service address",
    "parcel_id": "Parcel id",
    "meter_number": "Meter number",
    "rate_code": "Rate code",
    "usage": "Water usage",
    "deduct_usage": "Deduct meter usage",
    "billed_amount": "Sewer amount",
    "water_amount": "Water amount",
    "period_start": "Period start",
    "period_end": "Period end",
    "bill_date": "Bill date",
    "bill_number": "Bill number",
    "service_code": "Service code",
    "account_id": "Sewer account id",
    "water_account": "Water account number",
    "owner_name": "Owner name",
    "customer_class": "Customer class",
    "meter_size": "Meter size",
    "status": "Status",
    "winter_average": "Winter average",
    "dwelling_units": "Dwelling units",
}
FIELD_HELP = {
    "billed_amount": "With one row per service line, the amount of the line.",
    "service_code": "Used only with one row per service line.",
}
UNIT_CHOICES = [("", "---------")] + [(unit.value, unit.value) for unit in UsageUnit]
ENCODING_CHOICES = [("auto", "detect"), ("utf-8", "UTF-8"), ("cp1252", "Windows-1252"),
                    ("latin-1", "Latin-1"), ("utf-16", "UTF-16")]
DELIMITER_CHOICES = [("auto", "detect"), (",", "comma"), (";", "semicolon"),
                     ("tab", "tab"), ("|", "pipe")]
_RATE_CODE_KEY = re.compile(r"^rate_code_(\d+)$")
# Start of the engine's messages about the rate_codes entry of a mapping.
_RATE_CODES_ENTRY = "rate_codes"


class UploadForm(forms.Form):
    """Step 1: which entity sent which kind of file for which cycle."""

    entity = forms.ModelChoiceField(BillingEntity.objects.all(), label="Billing entity")
    kind = forms.ChoiceField(choices=ImportKind.choices, initial=ImportKind.BILLING,
                             label="File")
    cycle = forms.ModelChoiceField(
        BillingCycle.objects.select_related("entity"), required=False,
        label="Billing cycle", help_text="Required for a billing export.",
    )
    file = forms.FileField(help_text="CSV (.csv, .txt, .tsv) or Excel (.xlsx, .xlsm).")
    force = forms.BooleanField(
        required=False, label="Import anyway, although this file was uploaded before",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_mb = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        self.fields["file"].help_text += f" At most {limit_mb} MB."
        self.fields["file"].widget.attrs["accept"] = ",".join(CSV_SUFFIXES + EXCEL_SUFFIXES)

    def clean(self):
        cleaned = super().clean()
        entity, cycle = cleaned.get("entity"), cleaned.get("cycle")
        if cleaned.get("kind") == ImportKind.BILLING and cycle is None:
            self.add_error("cycle", "Choose the billing cycle of the export.")
        if entity is not None and cycle is not None and cycle.entity_id != entity.pk:
            self.add_error("cycle", f"Cycle {cycle.code} belongs to {cycle.entity.name}; "
                                    "choose a cycle of the entity that sent the file.")
        return cleaned


class MappingForm(forms.Form):
    """Step 2: the column of each field, and how to read the values.

    Built for one kind of file and one header; `mapping_text` returns the YAML that
    the engine reads, validated by `clean`.
    """

    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, initial="auto", required=False)
    delimiter = forms.ChoiceField(choices=DELIMITER_CHOICES, initial="auto", required=False)
    save_as = forms.CharField(
        max_length=100, required=False, label="Save this mapping as",
        help_text="A name such as 'Monthly CIS export', to start from it next time.",
    )

    def __init__(self, *args, kind: str, header: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.field_names = BILLING_FIELDS if kind == ImportKind.BILLING else PROFILE_FIELDS
        column_choices = [("", "- not in the file -")] + [(name, name) for name in header]
        for name in self.field_names:
            self.fields[f"column_{name}"] = forms.ChoiceField(
                choices=column_choices, required=False,
                label=FIELD_LABELS.get(name, name), help_text=FIELD_HELP.get(name, ""),
            )
        if kind == ImportKind.BILLING:
            self._add_billing_fields()
        else:
            self.fields["winter_average_unit"] = forms.ChoiceField(
                choices=UNIT_CHOICES, required=False, initial=UsageUnit.KGAL.value,
                label="Unit of the winter average",
            )
        self._text = ""
        self._missing_classes: list[str] = []

    def _add_billing_fields(self) -> None:
        self.fields["layout"] = forms.ChoiceField(choices=[
            (Layout.PER_BILL.value, "One row per bill"),
            (Layout.PER_LINE.value, "One row per service line (water, sewer, ...)"),
        ], initial=Layout.PER_BILL.value)
        self.fields["usage_unit"] = forms.ChoiceField(choices=UNIT_CHOICES, required=False,
                                                      label="Unit of the usage columns")
        self.fields["date_format"] = forms.CharField(
            max_length=40, required=False, label="Date format",
            help_text="strftime pattern, e.g. %m/%d/%Y for 01/31/2024.",
        )
        self.fields["sewer_service_codes"] = forms.CharField(
            max_length=500, required=False, label="Sewer service codes",
            help_text="One row per line: the service codes of sewer lines, comma-separated.",
        )
        self.fields["water_service_codes"] = forms.CharField(
            max_length=500, required=False, label="Water service codes",
            help_text="One row per line, optional: service codes of water lines.",
        )

    def column_fields(self):
        """Return the bound column selects in the order of the mapping fields."""
        return [self[f"column_{name}"] for name in self.field_names]

    def rate_codes(self) -> dict[str, str]:
        """Return the rate code -> class pairs posted, in the order they were listed.

        A code whose "remove" box (rate_drop_N) is ticked is left out.
        """
        pairs = {}
        indexes = sorted(int(match.group(1)) for key in self.data
                         if (match := _RATE_CODE_KEY.match(key)))
        for index in indexes[:MAX_RATE_CODES]:
            if self.data.get(f"rate_drop_{index}"):
                continue
            code = (self.data.get(f"rate_code_{index}") or "").strip()
            customer_class = (self.data.get(f"rate_class_{index}") or "").strip()
            if code:
                pairs[code] = customer_class
        return pairs

    def clean(self):
        cleaned = super().clean()
        columns = {name: cleaned[f"column_{name}"] for name in self.field_names
                   if cleaned.get(f"column_{name}")}
        encoding, delimiter = cleaned.get("encoding") or "", cleaned.get("delimiter") or ""
        try:
            if self.kind == ImportKind.BILLING:
                self._text = self._billing_text(cleaned, columns, encoding, delimiter)
                load_billing_mapping(self._text)
            else:
                self._text = profile_mapping_text(
                    columns=columns, winter_average_unit=cleaned.get("winter_average_unit")
                    or "", encoding=encoding, delimiter=delimiter,
                )
                load_profile_mapping(self._text)
        except InputError as error:
            for problem in error.problems:
                # The form has already listed in plain words the rate codes that lack a class.
                if self._missing_classes and problem.message.startswith(_RATE_CODES_ENTRY):
                    continue
                self.add_error(None, " ".join(
                    part for part in (_sentence(problem.message), problem.hint) if part
                ))
        return cleaned

    def mapping_text(self) -> str:
        """Return the mapping YAML of a valid form."""
        return self._text

    def _billing_text(self, cleaned, columns, encoding, delimiter) -> str:
        per_line = cleaned.get("layout") == Layout.PER_LINE
        rate_codes = self.rate_codes() if "rate_code" in columns else {}
        missing = [code for code, customer_class in rate_codes.items() if not customer_class]
        self._missing_classes = missing
        if missing:
            listed = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            self.add_error(None, f"Give a customer class to every rate code; missing for "
                                 f"{listed}.")
        if not per_line:
            columns.pop(SERVICE_CODE, None)
        return billing_mapping_text(
            layout=cleaned.get("layout") or Layout.PER_BILL.value,
            columns=columns,
            usage_unit=cleaned.get("usage_unit") or "",
            date_format=cleaned.get("date_format") or "",
            sewer_service_codes=_codes(cleaned.get("sewer_service_codes")) if per_line else [],
            water_service_codes=_codes(cleaned.get("water_service_codes")) if per_line else [],
            rate_codes=rate_codes,
            encoding=encoding,
            delimiter=delimiter,
        )


def initial_from_mapping(kind: str, text: str) -> tuple[dict, dict[str, str]]:
    """Return the form's initial values and the rate codes of a valid mapping text."""
    if kind == ImportKind.BILLING:
        mapping = load_billing_mapping(text)
        initial = {f"column_{name}": header for name, header in mapping.columns.items()}
        initial.update(
            layout=mapping.layout.value,
            usage_unit=mapping.usage_unit.value if mapping.usage_unit else "",
            date_format=mapping.date_format or "",
            sewer_service_codes=", ".join(sorted(mapping.sewer_service_codes)),
            water_service_codes=", ".join(sorted(mapping.water_service_codes)),
        )
        csv_options, rate_codes = mapping.csv, dict(mapping.rate_codes)
    else:
        profiles = load_profile_mapping(text)
        initial = {f"column_{name}": profiles.header_for(name) for name in profiles.columns}
        initial["winter_average_unit"] = profiles.winter_average_unit.value
        csv_options, rate_codes = profiles.csv, {}
    initial["encoding"] = csv_options.encoding or "auto"
    initial["delimiter"] = {"\t": "tab", None: "auto"}.get(csv_options.delimiter,
                                                         csv_options.delimiter)
    return initial, rate_codes


def _codes(text: str | None) -> list[str]:
    return [code.strip() for code in (text or "").split(",") if code.strip()]


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else ""
