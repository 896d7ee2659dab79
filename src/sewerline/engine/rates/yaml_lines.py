"""YAML reading that keeps the line of every value, for problems that name the line.

PyYAML's composer builds nodes with start marks, and this module turns them into
`Item`s without the constructor's conversions. So a number stays the text it was
written as (no float ever touches a rate), and a key such as `1` or `False` keeps its
spelling.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import yaml

from sewerline.engine.errors import InputError, Problem

logger = logging.getLogger(__name__)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SHORT_TAGS = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
}


@dataclass(frozen=True)
class Item:
    """One YAML value with its 1-based line.

    `value` is the scalar's text, a list of Items, or a dict of key text to Item.
    `kind` is str, int, float, bool, null, timestamp, list or map.
    """

    value: object
    line: int
    kind: str

    @property
    def is_scalar(self) -> bool:
        return self.kind not in ("list", "map")


def read_yaml(path: Path) -> Item:
    """Read a YAML file into Items; raise InputError naming the line of a syntax error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(
            code="rate_file_unreadable", message=f"cannot read the rate file: {error}",
            file=str(path), hint="Check the path and save the file as UTF-8 text.",
        )]) from error

    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        reason = getattr(error, "problem", None) or str(error)
        raise InputError([Problem(
            code="rate_file_invalid_yaml", message=f"the rate file is not valid YAML: {reason}",
            file=str(path), line=mark.line + 1 if mark is not None else None,
            hint="Fix the indentation or quoting at that line; every key of a customer "
                 "class must be indented the same.",
        )]) from error

    if node is None:
        raise InputError([Problem(
            code="rate_file_empty", message="the rate file is empty", file=str(path),
            hint="Write a metadata block and a rate_structure block.",
        )])
    return _to_item(node, str(path))


def _to_item(node: yaml.Node, file: str) -> Item:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return Item(node.value, line, _SHORT_TAGS.get(node.tag, "str"))
    if isinstance(node, yaml.SequenceNode):
        return Item([_to_item(child, file) for child in node.value], line, "list")

    mapping: dict[str, Item] = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise InputError([Problem(
                code="rate_file_bad_key", message="a mapping key is not a plain value",
                file=file, line=key_line, hint="Write keys as plain text, for example 5/8\".",
            )])
        key = key_node.value
        if key in mapping:
            # yaml.safe_load would keep the later value; in a rate file that silently
            # swaps a charge or a price list, so it is an error.
            raise InputError([Problem(
                code="rate_file_duplicate_key",
                message=f"key {key!r} appears twice in the same block, at lines "
                        f"{mapping[key].line} and {key_line}",
                file=file, line=key_line, column=key,
                hint="Keep one of the two, or rename the one that belongs to another field.",
            )])
        value = _to_item(value_node, file)
        # A value's line is the line of its key, which is the line a person looks for.
        mapping[key] = Item(value.value, key_line, value.kind)
    return Item(mapping, line, "map")
