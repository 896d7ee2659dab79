"""Rate formulas: a tokenizer and recursive-descent parser to a small syntax tree.

The grammar is the arithmetic subset that OWRS rate files use, plus the functions
`min`, `max` and `round` that sewer rates need:

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | primary
    primary    := NUMBER | NAME | NAME "(" arguments ")" | "(" expression ")"

Formulas are parsed, never evaluated as Python, so a rate file cannot run code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

FUNCTIONS = ("min", "max", "round")
MAX_ROUND_DIGITS = 12   # the engine keeps 12 digits after the point (money.SCALE)


@dataclass(frozen=True)
class Number:
    value: Decimal   # as written in the rate file, always >= 0 (a minus is a Negate)


@dataclass(frozen=True)
class Name:
    name: str        # a field of the customer class or an input column


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class BinaryOp:
    operator: str    # one of + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    function: str    # min or max
    arguments: tuple[Node, ...]


@dataclass(frozen=True)
class Round:
    operand: Node
    digits: int      # digits after the point, 0..12, ties away from zero


Node = Number | Name | Negate | BinaryOp | Call | Round


class FormulaError(ValueError):
    """Raised for a formula that does not parse; names the formula text and the position."""

    def __init__(self, text: str, position: int, reason: str):
        self.text = text
        self.position = position
        self.reason = reason
        super().__init__(f"invalid formula {text!r} at position {position}: {reason}")


_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<symbol>[-+*/(),])"
    r")"
)


@dataclass(frozen=True)
class _Token:
    kind: str        # number, name, symbol or end
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            tokens.append(_Token("end", "", position))
            return tokens
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise FormulaError(text, position, f"unexpected character {text[position]!r}")
        start = match.start(match.lastgroup)
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), start))
        position = match.end()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, reason: str, token: _Token | None = None) -> FormulaError:
        token = token or self.current
        return FormulaError(self.text, token.position, reason)

    def describe(self, token: _Token) -> str:
        return "the end of the formula" if token.kind == "end" else repr(token.text)

    def accept(self, symbol: str) -> bool:
        if self.current.kind == "symbol" and self.current.text == symbol:
            self.index += 1
            return True
        return False

    def expect(self, symbol: str) -> None:
        if not self.accept(symbol):
            raise self.fail(f"expected {symbol!r} but found {self.describe(self.current)}")

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise self.fail("the formula is empty")
        node = self.expression()
        if self.current.kind != "end":
            raise self.fail(f"expected an operator but found {self.describe(self.current)}")
        return node

    def expression(self) -> Node:
        node = self.term()
        while self.current.kind == "symbol" and self.current.text in "+-":
            operator = self.current.text
            self.index += 1
            node = BinaryOp(operator, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.current.kind == "symbol" and self.current.text in "*/":
            operator = self.current.text
            self.index += 1
            node = BinaryOp(operator, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.accept("-"):
            return Negate(self.unary())
        if self.accept("+"):
            return self.unary()
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.index += 1
            return Number(Decimal(token.text))
        if token.kind == "name":
            self.index += 1
            if self.current.kind == "symbol" and self.current.text == "(":
                return self.call(token)
            return Name(token.text)
        if self.accept("("):
            node = self.expression()
            self.expect(")")
            return node
        raise self.fail(f"expected a number, a name or '(' but found {self.describe(token)}")

    def call(self, function: _Token) -> Node:
        if function.text not in FUNCTIONS:
            known = ", ".join(FUNCTIONS)
            raise self.fail(f"unknown function {function.text!r}; use one of: {known}", function)
        self.expect("(")
        arguments = [self.expression()]
        while self.accept(","):
            arguments.append(self.expression())
        self.expect(")")

        if function.text != "round":
            return Call(function.text, tuple(arguments))
        if len(arguments) == 1:
            return Round(arguments[0], 0)
        digits = arguments[1] if len(arguments) == 2 else None
        if not (isinstance(digits, Number) and digits.value == digits.value.to_integral_value()
                and 0 <= digits.value <= MAX_ROUND_DIGITS):
            raise self.fail(
                f"round takes a value and a whole number of digits from 0 to "
                f"{MAX_ROUND_DIGITS}, for example round(x, 2)", function)
        return Round(arguments[0], int(digits.value))


def parse_formula(text: str) -> Node:
    """Parse a rate formula into its syntax tree; raise FormulaError naming the position."""
    return _Parser(text).parse()


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def _precedence(node: Node) -> int:
    if isinstance(node, BinaryOp):
        return _PRECEDENCE[node.operator]
    return 3


def format_formula(node: Node, name_text: Callable[[str], str] | None = None) -> str:
    """Print a syntax tree as formula text that parses back to the same tree.

    With `name_text`, each name is printed as name_text(name), which traces use to
    show a formula with the values in place of the names.
    """
    def child(item: Node) -> str:
        return format_formula(item, name_text)

    if isinstance(node, Number):
        return format(node.value, "f")
    if isinstance(node, Name):
        return name_text(node.name) if name_text else node.name
    if isinstance(node, Negate):
        inner = child(node.operand)
        return f"-({inner})" if isinstance(node.operand, BinaryOp) else f"-{inner}"
    if isinstance(node, Call):
        return f"{node.function}({', '.join(child(a) for a in node.arguments)})"
    if isinstance(node, Round):
        return f"round({child(node.operand)}, {node.digits})"

    # Operators are left-associative, so a right operand of equal precedence needs
    # parentheses to keep its grouping: a - (b - c).
    own = _PRECEDENCE[node.operator]
    left = child(node.left)
    if _precedence(node.left) < own:
        left = f"({left})"
    right = child(node.right)
    if _precedence(node.right) <= own:
        right = f"({right})"
    return f"{left} {node.operator} {right}"


def referenced_names(node: Node) -> list[str]:
    """List the names a formula uses, each once, in order of first use."""
    names: list[str] = []

    def visit(item: Node) -> None:
        if isinstance(item, Name):
            if item.name not in names:
                names.append(item.name)
        elif isinstance(item, Negate | Round):
            visit(item.operand)
        elif isinstance(item, BinaryOp):
            visit(item.left)
            visit(item.right)
        elif isinstance(item, Call):
            for argument in item.arguments:
                visit(argument)

    visit(node)
    return names


def rename_names(node: Node, new_names: dict[str, str]) -> Node:
    """Return the syntax tree with each name in `new_names` replaced by its new name."""
    def child(item: Node) -> Node:
        return rename_names(item, new_names)

    if isinstance(node, Name):
        return Name(new_names.get(node.name, node.name))
    if isinstance(node, Negate):
        return Negate(child(node.operand))
    if isinstance(node, Round):
        return Round(child(node.operand), node.digits)
    if isinstance(node, BinaryOp):
        return BinaryOp(node.operator, child(node.left), child(node.right))
    if isinstance(node, Call):
        return Call(node.function, tuple(child(argument) for argument in node.arguments))
    return node
