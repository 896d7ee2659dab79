"""Short names in formulas that refer to fields of a named tier set.

Rate files made with the California Data Collaborative's OWRS web form give the fields
of a budget-based charge the suffix of its tier set (`tier_starts_commodity`,
`budget_commodity`, `gpcd_commodity`, `indoor_commodity`), while the formulas and tier
starts use the short names (`hhsize*gpcd*days_in_period*(1/748)`, `indoor`). A name
that is not a field of the class therefore refers to the field `<name>_<set>` or
`<set>_<name>`, where `<set>` is a tier set the class defines: the `S` of a field named
`tier_starts_S`, `tier_prices_S`, `S_tier_starts`, `S_tier_prices` or `budget_S`.
Only a name that matches no field this way is an input column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SET_FIELD = re.compile(
    r"(?:tier_starts|tier_prices|budget)_(\w+)|(\w+)_(?:tier_starts|tier_prices)")


def tier_sets(field_names: Iterable[str]) -> list[str]:
    """List the tier sets (suffixes or prefixes) that a class's field names define."""
    sets: list[str] = []
    for name in field_names:
        match = _SET_FIELD.fullmatch(name)
        if match:
            found = match[1] or match[2]
            if found not in sets:
                sets.append(found)
    return sets


def _belongs_to(field_name: str, tier_set: str) -> bool:
    return field_name.endswith(f"_{tier_set}") or field_name.startswith(f"{tier_set}_")


class NameResolver:
    """Maps each short name that formulas use to the field of a tier set it refers to."""

    def __init__(self, field_names: Iterable[str]):
        self.fields = list(field_names)   # in file order, so messages list them that way
        self.sets = tier_sets(self.fields)

    def candidates(self, name: str) -> list[str]:
        """List the tier-set fields `name` may refer to; empty for a field or input column."""
        if name in self.fields:
            return []
        found = []
        for tier_set in self.sets:
            for candidate in (f"{name}_{tier_set}", f"{tier_set}_{name}"):
                if candidate in self.fields and candidate not in found:
                    found.append(candidate)
        return found

    def resolve(self, name: str, user: str) -> str | list[str]:
        """Return the field `name` refers to in the formulas of field `user`.

        Returns `name` itself for a field or an input column, and the list of
        candidates when several tier sets define the name and `user` belongs to none
        or several of them.
        """
        found = self.candidates(name)
        if not found:
            return name
        if len(found) == 1:
            return found[0]
        own = [candidate for candidate in found
               if any(_belongs_to(candidate, s) and _belongs_to(user, s) for s in self.sets)]
        return own[0] if len(own) == 1 else found
