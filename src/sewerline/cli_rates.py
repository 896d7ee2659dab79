"""`sewerline rates ...`: check a rate file, price one bill, explain an account's charge."""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
import polars as pl

from sewerline.engine.audit import audit, load_inputs
from sewerline.engine.errors import InputError
from sewerline.engine.expected import PROFILE_ROW, rate_input_table
from sewerline.engine.findings import AuditConfig
from sewerline.engine.money import format_cents
from sewerline.engine.rates import BillTrace, explain_bill, explain_rows, load_schedule
from sewerline.engine.schema import Billed, Profile, Status

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
EXIT_NOT_RUN = 2


@click.group()
def rates() -> None:
    """Check rate files and show how a sewer charge is computed."""


@rates.command()
@click.argument("rate_file", type=EXISTING_FILE)
def check(rate_file: Path) -> None:
    """Validate RATE_FILE and list its classes and the input columns each one needs."""
    try:
        schedule = load_schedule(rate_file)
    except InputError as error:
        _fail(error)
    click.echo(
        f"{schedule.utility_name}, effective {schedule.effective_date:%b %-d, %Y}, billed "
        f"{schedule.bill_frequency}, usage in {schedule.bill_unit}, rounding "
        f"{schedule.rounding}"
    )
    for name in schedule.classes:
        columns = ", ".join(sorted(schedule.data_columns(name))) or "none"
        click.echo(f"  {name}: needs {columns}")


@rates.command()
@click.option("--rates", "rate_file", type=EXISTING_FILE, required=True,
              help="Rate schedule in OWRS YAML.")
@click.option("--class", "class_name", required=True,
              help="Customer class of the rate file, e.g. RESIDENTIAL_SINGLE.")
@click.option("--usage", required=True,
              help="Usage of the billing period in the schedule's bill unit "
              "(metadata.bill_unit: ccf, kgal, gallons or m3), e.g. 7.5.")
@click.option("--set", "settings", multiple=True, metavar="COLUMN=VALUE",
              help="Value of another input column the formulas use, e.g. "
              "winter_average=4.488 or meter_size='5/8\"'. Repeat for several.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: bill and components as strings with two "
              "decimals.")
def bill(rate_file: Path, class_name: str, usage: str, settings: tuple[str, ...],
         as_json: bool) -> None:
    """Compute one bill of CLASS for USAGE and print each component and the total."""
    inputs: dict[str, object] = {"usage_ccf": _number("--usage", usage)}
    for setting in settings:
        column, separator, value = setting.partition("=")
        if not separator or not column.strip():
            raise click.BadParameter(f"{setting!r} is not COLUMN=VALUE", param_hint="--set")
        inputs[column.strip()] = value.strip()
    try:
        schedule = load_schedule(rate_file)
        trace = explain_bill(schedule, class_name, inputs)
    except InputError as error:
        _fail(error)
    _print_trace(trace, as_json=as_json)


@rates.command()
@click.option("--profiles", type=EXISTING_FILE, required=True, help="Profile file.")
@click.option("--billing", type=EXISTING_FILE, required=True, help="Billing export.")
@click.option("--rates", "rate_file", type=EXISTING_FILE, required=True,
              help="Rate schedule in OWRS YAML.")
@click.option("--mapping", type=EXISTING_FILE, required=True, help="Mapping YAML.")
@click.option("--account", required=True,
              help="The sewer utility's account id (account_id of the profile).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def explain(profiles: Path, billing: Path, rate_file: Path, mapping: Path, account: str,
            as_json: bool) -> None:
    """Explain the expected sewer charge of one account for the export's period.

    Links the export to the profiles as the audit does, then prints the account's
    bill line by line: inputs, components, tiers, rounding and total, and what was billed.
    """
    try:
        inputs = load_inputs(profiles_path=profiles, billing_path=billing,
                             rates_path=rate_file, mapping_path=mapping,
                             progress=lambda step: None)
        result = audit(inputs, AuditConfig(cycle="explain", keep_intermediate=True))
    except InputError as error:
        _fail(error)

    linked = result.intermediate["linked"].filter(pl.col(Profile.ACCOUNT_ID) == account)
    unbilled = result.intermediate["unbilled"].filter(pl.col(Profile.ACCOUNT_ID) == account)
    if linked.is_empty() and unbilled.is_empty():
        profile = inputs.profiles.filter(pl.col(Profile.ACCOUNT_ID) == account)
        if profile.is_empty():
            raise click.BadParameter(f"no profile has account_id {account!r}",
                                     param_hint="--account")
        status = profile.get_column(Profile.STATUS).item()
        click.echo(f"account {account}: status {status} and no bill in the export, so "
                   "no sewer charge is expected")
        return

    if linked.is_empty():
        header = f"account {account}: no bill in the export; rated at zero usage"
        table = rate_input_table(unbilled.rename({"source_row": PROFILE_ROW}),
                                 inputs.get_rater(), usage=pl.lit(0), source=profiles.name,
                                 prorate=False)
        billed = None
    else:
        row = linked.head(1)
        if row.get_column(Profile.STATUS).item() != Status.ACTIVE:
            click.echo(f"account {account}: status {row.get_column(Profile.STATUS).item()}, "
                       "so no sewer charge is expected; billed "
                       f"{format_cents(row.get_column(Billed.AMOUNT).item())}")
            return
        usage = row.get_column(Billed.USAGE_GAL).item()
        usage_text = "no usage" if usage is None else f"usage {_plain(usage)} gallons"
        header = (f"account {account}: bill at row {row.get_column('source_row').item()} "
                  f"of {billing.name}, water account {row.get_column(Billed.ACCOUNT).item()}, "
                  f"linked by {row.get_column('match_method').item()}, {usage_text}")
        table = rate_input_table(row, inputs.get_rater(), usage=pl.col(Billed.USAGE_GAL),
                                 source=profiles.name)
        billed = row.get_column(Billed.AMOUNT).item()
    trace = explain_rows(table, inputs.schedule, Profile.CLASS, [0],
                         row_column=PROFILE_ROW, source=profiles.name)[0]
    _print_trace(trace, as_json=as_json, header=header, billed=billed)


def trace_json(trace: BillTrace) -> dict[str, object]:
    """Return a trace as plain JSON data; amounts are strings with two decimals."""
    return {
        "class": trace.class_name,
        "unit": str(trace.unit),
        "rounding": str(trace.rounding),
        "inputs": {name: _plain(value) for name, value in trace.inputs.items()},
        "components": {c.name: format_cents(c.rounded) or None for c in trace.components},
        "tiers": {
            c.name: [
                {"from": str(line.start), "to": None if line.end is None else str(line.end),
                 "volume": str(line.volume), "price": str(line.price),
                 "amount": str(line.amount)}
                for line in c.tiers
            ]
            for c in trace.components if c.tiers
        },
        "bill": format_cents(trace.total) or None,
    }


def _print_trace(trace: BillTrace, *, as_json: bool, header: str | None = None,
                 billed: Decimal | None = None) -> None:
    if as_json:
        data = trace_json(trace)
        if billed is not None:
            data["billed"] = format_cents(billed)
        click.echo(json.dumps(data, indent=2))
        return
    if header:
        click.echo(header)
    for line in trace.lines():
        click.echo(line)
    if billed is not None:
        click.echo(f"billed {format_cents(billed)}; difference (billed minus expected) "
                   f"{format_cents(billed - trace.total) if trace.total is not None else ''}")


def _plain(value: object) -> str | None:
    """Write an input without the engine's trailing zeros (7.500000000000 -> 7.5)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _number(option: str, text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a number such as 7.5",
                                 param_hint=option) from None


def _fail(error: InputError) -> None:
    click.echo(f"Error:\n{error.describe()}", err=True)
    sys.exit(EXIT_NOT_RUN)
