"""The `sewerline` command.

Exit codes of `sewerline audit` and `sewerline demo`, for scripts and schedulers:
0 the cycle is clean, 1 findings were reported, 2 the audit could not run (bad input,
bad arguments or an internal error). With 2, no report file is written.
"""

from __future__ import annotations

import logging
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from tqdm import tqdm

from sewerline import __version__
from sewerline.engine.audit import STEPS, run_audit
from sewerline.engine.errors import InputError
from sewerline.engine.findings import AuditConfig, AuditResult, FindingType, Tolerance
from sewerline.engine.rates.dated import ChangeMode
from sewerline.engine.report import format_usd, write_reports
from sewerline.engine.units import UsageUnit

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_NOT_RUN = 2

logger = logging.getLogger("sewerline.cli")


class DecimalParam(click.ParamType):
    """A click option value parsed as an exact Decimal (never a float)."""

    name = "decimal"

    def convert(self, value, param, ctx):
        if isinstance(value, Decimal):
            return value
        try:
            number = Decimal(str(value).strip().lstrip("$"))
        except InvalidOperation:
            self.fail(f"{value!r} is not a number such as 0.01", param, ctx)
        if not number.is_finite() or number < 0:
            self.fail(f"{value!r} must be a number of zero or more", param, ctx)
        return number


EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sewerline")
@click.option("-v", "--verbose", count=True, help="Log more: -v for steps, -vv for debug.")
def main(verbose: int) -> None:
    """Sewerline: audit the sewer charges a water utility bills for a sewer utility."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def audit_options(function):
    """Options shared by `audit` and `demo` that tune the comparison."""
    options = [
        click.option(
            "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
            default=Path("out"), show_default=True,
            help="Folder for findings.csv, audit.xlsx and summary.html (created if missing).",
        ),
        click.option(
            "--tolerance", type=DecimalParam(), default=Decimal("0.01"), show_default=True,
            help="Largest difference in dollars treated as rounding noise, not a finding.",
        ),
        click.option(
            "--tolerance-percent", type=DecimalParam(), default=None,
            help="Also treat as noise a difference of at most this percent of the "
            "expected amount (e.g. 0.5 for half a percent). Off by default.",
        ),
        click.option(
            "--fuzzy-score", type=click.IntRange(50, 100), default=92, show_default=True,
            help="Lowest fuzzy address score (0-100) that links a bill to a profile with "
            "the same house number and unit.",
        ),
        click.option(
            "--keep-intermediate", is_flag=True,
            help="Also write the intermediate tables (links, rated bills) as Parquet "
            "files under OUT/intermediate, to trace a number.",
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command(short_help="Audit one billing cycle's export against profiles and rates.")
@click.option("--profiles", type=EXISTING_FILE, required=True,
              help="Sewer utility's billing profiles, CSV or XLSX (layout in docs/mapping.md).")
@click.option("--billing", type=EXISTING_FILE, required=True,
              help="Water utility's billing export for the cycle, CSV or XLSX.")
@click.option("--rates", type=EXISTING_FILE, required=True, multiple=True,
              help="Sewer rate schedule in OWRS YAML (docs/rates.md). Usage units come "
              "from its metadata.bill_unit (ccf when absent). Repeat the option to give "
              "several dated versions of the schedule when rates changed.")
@click.option("--rate-change", type=click.Choice([mode.value for mode in ChangeMode]),
              default=ChangeMode.SPLIT_BY_DAYS.value, show_default=True,
              help="How a billing period that spans a rate change is rated: split by days "
              "between the versions, or at the new rate from the next period.")
@click.option("--usage-history", type=EXISTING_FILE, default=None,
              help="Meter reads (CSV or XLSX: account_id or water_account, read_date, "
              "usage) for a winter-average rule computed from history.")
@click.option("--history-unit", type=click.Choice([unit.value for unit in UsageUnit]),
              default=UsageUnit.GALLONS.value, show_default=True,
              help="Unit of the usage column of --usage-history.")
@click.option("--mapping", type=EXISTING_FILE, required=True,
              help="Mapping YAML: which export column is which field, the usage unit "
              "(gallons, kgal, ccf or m3), date format and rate-code table.")
@click.option("--cycle", required=True, callback=lambda ctx, param, value: _cycle(value),
              help="Billing cycle id written on every finding, e.g. 2016-03.")
@audit_options
def audit(profiles, billing, rates, mapping, cycle, rate_change, usage_history,
          history_unit, **options) -> None:
    """Compare one cycle's billing export with the profiles and the rate schedule.

    Exit code 0: no findings; 1: findings reported; 2: could not run.
    """
    code = _run(
        profiles=profiles, billing=billing, rates=list(rates), mapping=mapping, cycle=cycle,
        extra_inputs={
            "change_mode": ChangeMode(rate_change),
            "history_path": usage_history,
            "history_unit": UsageUnit(history_unit),
        },
        **options,
    )
    sys.exit(code)


@main.command(short_help="Audit the bundled real sample and write its reports.")
@audit_options
def demo(**options) -> None:
    """Audit the bundled real sample (Santa Monica usage, sample sewer rates).

    Writes the reports to --out (default out/demo) and prints where they are. Exits with
    0 when the audit ran, findings included, because the sample exists to show them.
    """
    from sewerline.sample import CYCLE, sample_files

    files = sample_files()
    if options["out_dir"] == Path("out"):
        options["out_dir"] = Path("out/demo")
    code = _run(
        profiles=files.profiles, billing=files.billing, rates=files.rates,
        mapping=files.mapping, cycle=CYCLE, **options,
    )
    # The demo exists to show findings, so finding them is success for `make demo`.
    sys.exit(EXIT_NOT_RUN if code == EXIT_NOT_RUN else EXIT_CLEAN)


def _run(
    *, profiles, billing, rates, mapping, cycle, out_dir, tolerance, tolerance_percent,
    fuzzy_score, keep_intermediate, quiet, extra_inputs=None,
) -> int:
    config = AuditConfig(
        cycle=cycle,
        tolerance=Tolerance(absolute=tolerance, percent=tolerance_percent),
        fuzzy_address_min_score=fuzzy_score,
        keep_intermediate=keep_intermediate,
    )
    # A progress bar only helps a person watching; in a log file it is noise.
    show_progress = not quiet and sys.stderr.isatty()
    bar = tqdm(total=len(STEPS), desc="audit", unit="step", disable=not show_progress,
               file=sys.stderr)

    def advance(step: str) -> None:
        bar.set_postfix_str(step)
        if step != STEPS[0]:
            bar.update(1)

    try:
        result = run_audit(
            profiles_path=profiles, billing_path=billing, rates_path=rates,
            mapping_path=mapping, config=config, progress=advance, **(extra_inputs or {}),
        )
        bar.set_postfix_str("write reports")
        paths = write_reports(result, out_dir)
        if keep_intermediate:
            _write_intermediate(result, out_dir / "intermediate")
        bar.update(bar.total - bar.n)
    except InputError as error:
        bar.close()
        click.echo(f"Error: the audit could not run.\n{error.describe()}", err=True)
        return EXIT_NOT_RUN
    except Exception:
        bar.close()
        logger.exception("internal error in the audit of cycle %s", cycle)
        click.echo(
            "Error: the audit stopped on an internal error (details above). No report "
            "was written. Please report it with the command you ran.", err=True,
        )
        return EXIT_NOT_RUN
    bar.close()

    if not quiet:
        click.echo(render_summary(result, paths))
    return EXIT_FINDINGS if result.has_findings else EXIT_CLEAN


def _cycle(value: str) -> str:
    if not value.strip():
        raise click.BadParameter("the cycle id must not be empty, e.g. 2016-03")
    return value.strip()


def render_summary(result: AuditResult, paths: list[Path]) -> str:
    """Return the closing summary printed after an audit: inputs, money, findings, files."""
    totals = result.totals
    lines = [
        f"Cycle {result.config.cycle}: {result.bills:,} bills, {result.profiles:,} profiles, "
        f"{result.matched:,} linked ({_methods(result.match_counts)})",
        f"Billed {format_usd(totals.billed)}, expected {format_usd(totals.expected)}, "
        f"difference {format_usd(totals.billed - totals.expected)}",
        "",
        f"{'finding type':<18} {'count':>7} {'at stake / cycle':>18} {'per year':>16}",
    ]
    per_year = Decimal(12) / totals.months_per_cycle
    for ftype in FindingType:
        count = totals.count_by_type.get(ftype.value, 0)
        if not count:
            continue
        at_stake = totals.at_stake_by_type.get(ftype.value, Decimal(0))
        lines.append(
            f"{ftype.value:<18} {count:>7,} {format_usd(at_stake):>18} "
            f"{format_usd((at_stake * per_year).quantize(Decimal('0.01'))):>16}"
        )
    if not result.has_findings:
        lines.append("no findings: every bill matches its profile and the rates")
    lines.append("")
    lines.extend(f"wrote {path}" for path in paths)
    return "\n".join(lines)


def _methods(counts: dict[str, int]) -> str:
    return ", ".join(f"{method} {count:,}" for method, count in counts.items()) or "none"


def _write_intermediate(result: AuditResult, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in result.intermediate.items():
        table.write_parquet(folder / f"{name}.parquet")


def _register_subcommands() -> None:
    from sewerline.cli_rates import rates
    from sewerline.cli_web import manage, serve

    main.add_command(rates)
    main.add_command(serve)
    main.add_command(manage)


_register_subcommands()
