"""Forms of the rate pages: a new schedule, a version upload and the bill calculator."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.conf import settings

from sewerline.apps.rates.models import RateSchedule

# One input per line: column=value, e.g. winter_average=4.5 or meter_size=3/4".
INPUT_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = RateSchedule
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class VersionUploadForm(forms.Form):
    file = forms.FileField(label="OWRS rate file",
                           help_text="A YAML rate file; its metadata.effective_date dates "
                                     "the version.")

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        limit = settings.UPLOAD_MAX_BYTES
        if uploaded.size > limit:
            raise forms.ValidationError(
                f"The file has {uploaded.size:,} bytes; the upload limit is {limit:,} bytes.")
        return uploaded


class CalculatorForm(forms.Form):
    """A bill to compute: class, usage in the schedule's bill unit, other inputs."""

    class_name = forms.ChoiceField(label="Customer class")
    usage = forms.DecimalField(required=False, min_value=Decimal(0), max_digits=20,
                               decimal_places=6, label="Usage")
    inputs = forms.CharField(
        required=False, label="Other inputs", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line as column=value, e.g. winter_average=4.488 or "
                  "dwelling_units=2.")

    def __init__(self, *args, classes: list[str], unit: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["class_name"].choices = [(name, name) for name in classes]
        self.fields["usage"].label = f"Usage ({unit})"

    def clean_inputs(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["inputs"].splitlines(), start=1):
            if not line.strip():
                continue
            match = INPUT_LINE.match(line)
            if match is None:
                raise forms.ValidationError(
                    f"Line {number} ({line.strip()!r}) is not column=value; write for "
                    "example winter_average=4.5.")
            values[match[1]] = match[2]
        return values

    def bill_inputs(self) -> dict[str, object]:
        """Return the inputs of explain_bill: usage as usage_ccf (OWRS's name) and the rest."""
        inputs: dict[str, object] = dict(self.cleaned_data["inputs"])
        inputs["usage_ccf"] = self.cleaned_data["usage"]
        return inputs
