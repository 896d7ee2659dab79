"""Read a YAML document as nodes, so every problem can name its line.

Scalars are taken as the text written in the file, never as YAML's typed values: a
rate code `01` stays "01" (YAML would make it the integer 1) and a code `NO` stays
"NO" (YAML 1.1 would make it False).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

from sewerline.engine.errors import Problem
from sewerline.engine.ingest.problems import suggestion

_NULL_TAG = "tag:yaml.org,2002:null"


def compose(text: str, path: str) -> tuple[yaml.Node | None, Problem | None]:
    """Parse YAML text into its node tree, or return the syntax error as a Problem."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        return None, Problem(
            code="invalid_yaml",
            message=f"the file is not valid YAML: {error.problem or error}",
            file=path,
            line=mark.line + 1 if mark else None,
            hint="Check the indentation and quoting near this line.",
        )
    except yaml.YAMLError as error:
        return None, Problem(
            code="invalid_yaml", message=f"the file is not valid YAML: {error}", file=path
        )


def line_of(node: yaml.Node) -> int:
    """Return the 1-based line where a node starts."""
    return node.start_mark.line + 1


@dataclass
class NodeReader:
    """Reads typed values out of YAML nodes and collects every problem it finds."""

    path: str
    problems: list[Problem] = field(default_factory=list)

    def report(self, node: yaml.Node | None, code: str, message: str, **details: str) -> None:
        """Add a problem located at the node's line."""
        line = line_of(node) if node is not None else None
        self.problems.append(Problem(code=code, message=message, file=self.path, line=line,
                                     **details))

    def mapping(self, node: yaml.Node, where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Return a mapping's entries as key text -> (key node, value node).

        Reports a node that is not a mapping, and a key given twice.
        """
        if not isinstance(node, yaml.MappingNode):
            self.report(node, "invalid_value", f"{where} must be a mapping of key: value lines")
            return {}
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.text(key_node, f"a key in {where}")
            if key is None:
                continue
            if key in entries:
                first_line = line_of(entries[key][0])
                self.report(key_node, "duplicate_key",
                            f"{key!r} is given twice in {where}, first on line {first_line}",
                            hint="Keep one of the two lines.")
                continue
            entries[key] = (key_node, value_node)
        return entries

    def check_keys(
        self, entries: dict[str, tuple[yaml.Node, yaml.Node]], allowed: Iterable[str],
        where: str,
    ) -> None:
        """Report each key that is not allowed, with the closest allowed key if any."""
        allowed = list(allowed)
        for key, (key_node, _) in entries.items():
            if key in allowed:
                continue
            self.report(key_node, "unknown_key", f"unknown key {key!r} in {where}",
                        value=key, expected="one of " + ", ".join(allowed),
                        hint=suggestion(key, allowed) or "Remove the line or correct the key.")

    def text(self, node: yaml.Node, where: str) -> str | None:
        """Return a scalar's text as written (stripped), reporting a missing or non-text value."""
        if not isinstance(node, yaml.ScalarNode):
            self.report(node, "invalid_value", f"{where} must be a single value")
            return None
        if node.tag == _NULL_TAG and node.style is None:
            self.report(node, "missing_value", f"{where} has no value")
            return None
        text = node.value.strip()
        if not text:
            self.report(node, "missing_value", f"{where} is empty")
            return None
        return text

    def text_list(self, node: yaml.Node, where: str) -> list[str]:
        """Return a sequence of scalars as text; a single scalar counts as a list of one."""
        if isinstance(node, yaml.ScalarNode):
            value = self.text(node, where)
            return [value] if value is not None else []
        if not isinstance(node, yaml.SequenceNode):
            self.report(node, "invalid_value", f"{where} must be a list such as [SW, SWR]")
            return []
        values = [self.text(item, f"an entry of {where}") for item in node.value]
        return [value for value in values if value is not None]
