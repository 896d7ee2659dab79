"""Read the `metadata.sewerline.winter_average` block of a rate file into a WinterAverageRule.

Every invalid value becomes a Problem with the file, the YAML line and a hint, and all
of them are raised together. Defaults that depend on other values (the effective date,
the minimum months, the months per read) are worked out from those values.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from sewerline.engine.errors import InputError, Problem
from sewerline.engine.ingest.problems import suggestion
from sewerline.engine.rates import RateSchedule
from sewerline.engine.rates.class_parser import parse_number
from sewerline.engine.rates.yaml_lines import Item
from sewerline.engine.units import parse_unit
from sewerline.engine.winter.rule import (
    AverageRounding,
    AverageSource,
    NewCustomerKind,
    NewCustomerRule,
    RoundingMode,
    WindowKind,
    WinterAverageRule,
)
from sewerline.engine.winter.window import effective_inside_window, months_in_window_order

logger = logging.getLogger(__name__)

BLOCK = "winter_average"

# The formula input that carries the winter average, as the audit names it.
WINTER_AVERAGE_INPUT = "winter_average"

_KEYS = (
    "source", "months", "window", "drop_highest", "rounding", "effective",
    "minimum_months", "months_per_read", "new_customer", "classes",
)
_ROUNDING_KEYS = ("places", "mode")
_NEW_CUSTOMER_KEYS = {
    NewCustomerKind.FLAT: ("rule", "amount", "per"),
    NewCustomerKind.DEFAULT_VOLUME: ("rule", "volume", "unit"),
    NewCustomerKind.CLASS_AVERAGE: ("rule",),
    NewCustomerKind.PREVIOUS_ACCOUNT: ("rule",),
}
# Rules that set every account they are tried on; nothing after them is reached.
_ALWAYS_SET = (NewCustomerKind.FLAT, NewCustomerKind.DEFAULT_VOLUME)
_MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_MAX_PLACES = 6

EnumType = TypeVar("EnumType", bound=StrEnum)


def rule_from_schedule(schedule: RateSchedule) -> WinterAverageRule | None:
    """Read the winter average rule of a schedule; None when its rate file has none.

    Raises InputError listing every invalid value of the block.
    """
    block = schedule.extensions.get(BLOCK)
    if block is None:
        return None
    reader = _BlockReader(schedule.path)
    rule = reader.read(block, schedule)
    if reader.problems:
        raise InputError(sorted(reader.problems, key=lambda problem: problem.line or 0))
    logger.info(
        "winter average rule of %s: months %s by %s, effective %s, %d new-customer rules",
        schedule.path, list(rule.months), rule.window, rule.effective_text,
        len(rule.new_customer),
    )
    return rule


class _BlockReader:
    """Reads one winter_average block, keeping a problem for each invalid value."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, key: str, item: Item, message: str, *, expected: str,
                hint: str, code: str = "winter_average_invalid") -> None:
        value = str(item.value) if item.is_scalar else None
        self.problems.append(Problem(
            code=code, message=message, file=self.file, line=item.line,
            column=f"{BLOCK}.{key}", value=value, expected=expected, hint=hint,
        ))

    def read(self, block: Item, schedule: RateSchedule) -> WinterAverageRule:
        if block.kind != "map":
            self.problem("", block, "sewerline.winter_average is not a mapping",
                         expected="key: value lines such as months: [12, 1, 2]",
                         hint="Indent the rule's keys under winter_average:.")
            return WinterAverageRule()
        fields: dict[str, Item] = block.value
        self.reject_unknown_keys(fields, _KEYS, "")

        source = self.choice(fields, "source", AverageSource, AverageSource.HISTORY)
        months = self.months(fields.get("months"))
        window = self.choice(fields, "window", WindowKind, WindowKind.BILLING_MONTH)
        drop_highest = self.boolean(fields.get("drop_highest"), "drop_highest", False)
        rounding = self.rounding(fields.get("rounding"))
        effective = self.effective(fields.get("effective"), months)

        default_per_read = _whole_months(schedule.months_per_cycle)
        months_per_read = self.integer(
            fields.get("months_per_read"), "months_per_read", default_per_read, 1, 12
        )
        minimum = self.integer(
            fields.get("minimum_months"), "minimum_months",
            _default_minimum_months(len(months), months_per_read), 1, 12,
        )
        new_customer = self.new_customer(fields.get("new_customer"), schedule)
        classes = self.classes(fields.get("classes"), schedule)

        return WinterAverageRule(
            source=source, months=months, window=window, drop_highest=drop_highest,
            rounding=rounding, effective=effective, minimum_months=minimum,
            months_per_read=months_per_read, new_customer=new_customer, classes=classes,
            file=self.file, line=block.line,
        )

    def reject_unknown_keys(self, fields: dict[str, Item], known: tuple[str, ...],
                            prefix: str) -> None:
        for key, item in fields.items():
            if key in known:
                continue
            hint = suggestion(key, known) or "Remove the key or correct its spelling."
            self.problem(prefix + key, item, f"unknown key {key!r} in winter_average",
                         code="winter_average_unknown_key",
                         expected="one of " + ", ".join(known), hint=hint)

    def choice(self, fields: dict[str, Item], key: str, kind: type[EnumType],
               default: EnumType, prefix: str = "") -> EnumType:
        item = fields.get(key)
        if item is None or item.kind == "null":
            return default
        text = str(item.value).strip().lower()
        try:
            return kind(text)
        except ValueError:
            names = [member.value for member in kind]
            self.problem(prefix + key, item, f"winter_average.{prefix}{key} is not a known "
                         "value", expected=", ".join(names),
                         hint=suggestion(text, names) or f"Write {key}: {default.value}.")
            return default

    def boolean(self, item: Item | None, key: str, default: bool) -> bool:
        if item is None or item.kind == "null":
            return default
        text = str(item.value).strip().lower()
        if item.is_scalar and text in _TRUE:
            return True
        if item.is_scalar and text in _FALSE:
            return False
        self.problem(key, item, f"winter_average.{key} is not true or false",
                     expected="true or false", hint=f"Write {key}: true or {key}: false.")
        return default

    def integer(self, item: Item | None, key: str, default: int, low: int, high: int) -> int:
        if item is None or item.kind == "null":
            return default
        number = parse_number(item)
        if number is None or number != number.to_integral_value() or not low <= number <= high:
            self.problem(key, item, f"winter_average.{key} is not a whole number "
                         f"from {low} to {high}", expected=f"a whole number from {low} to {high}",
                         hint=f"For example {key}: {default}.")
            return default
        return int(number)

    def months(self, item: Item | None) -> tuple[int, ...]:
        default = (12, 1, 2)
        if item is None or item.kind == "null":
            return default
        expected = "a list of consecutive month numbers such as [12, 1, 2]"
        if item.kind != "list" or not item.value:
            self.problem("months", item, "winter_average.months is not a list of months",
                         expected=expected, hint="Write months: [12, 1, 2] for December "
                         "to February.")
            return default

        numbers: list[int] = []
        for month_item in item.value:
            number = parse_number(month_item)
            if number is None or number != number.to_integral_value() or not 1 <= number <= 12:
                self.problem("months", month_item, "a winter month is not a month number",
                             expected="a whole number from 1 (January) to 12 (December)",
                             hint="Write months as numbers, for example [12, 1, 2].")
                return default
            numbers.append(int(number))

        ordered = months_in_window_order(numbers)
        if ordered is None or len(numbers) != len(set(numbers)):
            self.problem("months", item, "the winter months are not one run of distinct "
                         "consecutive months", expected=expected,
                         hint="List each month once, without gaps; the run may wrap from "
                         "December to January.")
            return default
        if len(ordered) == 12:
            self.problem("months", item, "the winter months cover the whole year, so no "
                         "date is left for the average to take effect",
                         expected="at most 11 months",
                         hint="List only the winter months, for example [12, 1, 2].")
            return default
        return ordered

    def effective(self, item: Item | None, months: tuple[int, ...]) -> tuple[int, int]:
        default = _default_effective(months)
        if item is None or item.kind == "null":
            return default
        text = str(item.value).strip() if item.is_scalar else ""
        match = _MONTH_DAY.fullmatch(text)
        valid = match is not None and _is_month_day(int(match[1]), int(match[2]))
        if match is None or not valid:
            self.problem("effective", item, "winter_average.effective is not a month and day",
                         expected="MM-DD, for example \"04-01\" (February 29 is not allowed)",
                         hint="Write only the month and day in quotes; the year follows "
                         "from each bill's period end.")
            return default

        effective = (int(match[1]), int(match[2]))
        if effective_inside_window(months, effective):
            self.problem("effective", item, "winter_average.effective falls inside the "
                         "winter months, before the winter has ended",
                         expected="a month and day after the last winter month",
                         hint=f"Use a date after the window, for example "
                         f"\"{default[0]:02d}-{default[1]:02d}\".")
            return default
        return effective

    def rounding(self, item: Item | None) -> AverageRounding | None:
        if item is None or item.kind == "null":
            return None
        if item.kind != "map":
            self.problem("rounding", item, "winter_average.rounding is not a mapping",
                         expected="{places: 0, mode: down}",
                         hint="Give the decimal places and the mode, for example "
                         "rounding: {places: 0, mode: down}.")
            return None
        fields: dict[str, Item] = item.value
        self.reject_unknown_keys(fields, _ROUNDING_KEYS, "rounding.")
        places = self.integer(fields.get("places"), "rounding.places", 0, 0, _MAX_PLACES)
        mode = self.choice(fields, "mode", RoundingMode, RoundingMode.HALF_UP, "rounding.")
        if "mode" not in fields:
            self.problem("rounding", item, "winter_average.rounding has no mode",
                         expected="mode: down, up, half_up or half_even",
                         hint="San Luis Obispo, for example, rounds down: "
                         "{places: 0, mode: down}.")
        return AverageRounding(places=places, mode=mode)

    def new_customer(self, item: Item | None,
                     schedule: RateSchedule) -> tuple[NewCustomerRule, ...]:
        if item is None or item.kind == "null":
            return ()
        entries = item.value if item.kind == "list" else [item]
        rules: list[NewCustomerRule] = []
        for entry in entries:
            if rules and rules[-1].kind in _ALWAYS_SET:
                self.problem("new_customer", entry, f"this rule follows {rules[-1].kind}, "
                             "which gives every remaining account a value, so it is never "
                             "used", expected=f"{rules[-1].kind} as the last rule",
                             hint="Move flat or default_volume to the end of the list.")
                break
            rule = self.new_customer_rule(entry, schedule)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def new_customer_rule(self, item: Item, schedule: RateSchedule) -> NewCustomerRule | None:
        kinds = " | ".join(kind.value for kind in NewCustomerKind)
        if item.kind != "map" or "rule" not in item.value:
            self.problem("new_customer", item, "a new_customer entry has no rule",
                         expected=f"a mapping with rule: {kinds}",
                         hint="For example new_customer: {rule: flat, amount: 42.00}.")
            return None
        fields: dict[str, Item] = item.value
        kind = self.choice(fields, "rule", NewCustomerKind, NewCustomerKind.CLASS_AVERAGE,
                           "new_customer.")
        self.reject_unknown_keys(fields, _NEW_CUSTOMER_KEYS[kind], "new_customer.")

        if kind is NewCustomerKind.FLAT:
            return self.flat_rule(fields, item, schedule)
        if kind is NewCustomerKind.DEFAULT_VOLUME:
            return self.default_volume_rule(fields, item)
        return NewCustomerRule(kind=kind)

    def flat_rule(self, fields: dict[str, Item], item: Item,
                  schedule: RateSchedule) -> NewCustomerRule | None:
        amount = self.positive_decimal(fields.get("amount"), item, "new_customer.amount",
                                       "amount: 42.00")
        per = fields.get("per")
        per_text = str(per.value).strip().lower() if per is not None else "cycle"
        if per is not None and per_text not in ("cycle", "month"):
            self.problem("new_customer.per", per, "new_customer.per is not cycle or month",
                         expected="cycle or month",
                         hint="per: month multiplies the amount by the months per cycle.")
            return None
        if amount is None:
            return None
        if per_text == "month":
            return NewCustomerRule(kind=NewCustomerKind.FLAT,
                                   amount=amount * schedule.months_per_cycle,
                                   monthly_amount=amount)
        return NewCustomerRule(kind=NewCustomerKind.FLAT, amount=amount)

    def default_volume_rule(self, fields: dict[str, Item], item: Item) -> NewCustomerRule | None:
        volume = self.positive_decimal(fields.get("volume"), item, "new_customer.volume",
                                       "volume: 4")
        unit = None
        unit_item = fields.get("unit")
        if unit_item is not None:
            try:
                unit = parse_unit(str(unit_item.value))
            except ValueError as error:
                self.problem("new_customer.unit", unit_item, f"new_customer.unit is "
                             f"invalid: {error}", expected="gallons, kgal, ccf or m3",
                             hint="Leave unit out to give the volume in the bill unit.")
                return None
        if volume is None:
            return None
        return NewCustomerRule(kind=NewCustomerKind.DEFAULT_VOLUME, volume=volume,
                               volume_unit=unit)

    def positive_decimal(self, item: Item | None, parent: Item, key: str,
                         example: str) -> Decimal | None:
        number = parse_number(item) if item is not None else None
        if number is None or not number.is_finite() or number < 0:
            self.problem(key, item or parent, f"winter_average.{key} is missing or not a "
                         "number of 0 or more", expected="a number such as 42.00",
                         hint=f"For example {example}.")
            return None
        return number

    def classes(self, item: Item | None, schedule: RateSchedule) -> frozenset[str]:
        if item is None or item.kind == "null":
            using = frozenset(
                name for name in schedule.classes
                if WINTER_AVERAGE_INPUT in schedule.data_columns(name)
            )
            if not using:
                logger.warning("%s: no class formula reads winter_average, so the "
                               "new-customer rules apply to no profile", self.file)
            return using

        entries = item.value if item.kind == "list" else [item]
        names = []
        for entry in entries:
            name = str(entry.value).strip() if entry.is_scalar else ""
            if name not in schedule.classes:
                known = list(schedule.classes)
                self.problem("classes", entry, f"class {name!r} is not in the rate schedule",
                             expected="one of " + ", ".join(known),
                             hint=suggestion(name, known) or "List classes of rate_structure.")
                continue
            names.append(name)
        return frozenset(names)


def _whole_months(months_per_cycle: Decimal) -> int:
    """Return the months per cycle as a whole number of months, at least 1."""
    return max(1, int(months_per_cycle))


def _default_minimum_months(window_months: int, months_per_read: int) -> int:
    """Return the months that a complete history of whole reads covers in the window.

    With reads every two months, a three-month window contains one or two reads, so a
    complete history covers two or four months and the default is two.
    """
    whole_reads = window_months // months_per_read
    return max(1, whole_reads * months_per_read) if whole_reads else months_per_read


def _default_effective(months: tuple[int, ...]) -> tuple[int, int]:
    """Return the first day of the second month after the window, or else of the first.

    The extra month leaves time for the last winter reads to be billed: a December to
    February window gives April 1. An 11-month window leaves only the month after it.
    """
    second_after = (months[-1] + 1) % 12 + 1
    if second_after in months:
        return (months[-1] % 12 + 1, 1)
    return (second_after, 1)


def _is_month_day(month: int, day: int) -> bool:
    # February has 28 days here: February 29 does not occur every year.
    if not 1 <= month <= 12:
        return False
    days = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return 1 <= day <= days
