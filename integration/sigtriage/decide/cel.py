"""Playbook conditions in CEL (Common Expression Language, via cel-python): safe, side-effect free, not
Turing-complete, and standard across SOAR tooling. Never Python eval."""

from __future__ import annotations

from typing import Any, cast

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError
from lark import Tree

from sigtriage.errors import UsageError


class ConditionError(Exception):
    """A condition failed while it was evaluated (wrong type, unknown variable): the alert escalates."""


def _min(a: Any, b: Any) -> Any:
    return a if a <= b else b


def _max(a: Any, b: Any) -> Any:
    return a if a >= b else b


FUNCTIONS = {"min": _min, "max": _max}
_ENV = celpy.Environment()


def _short(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    text = text.split(" (in activation", 1)[0]
    return text[1:].strip() if text.startswith("(") else text.strip()


MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
"""Comprehensions whose first argument binds a local name (`codes.exists(c, c == "x")`)."""


def _names(tree: Tree[Any]) -> tuple[set[str], set[str], set[str]]:
    """(free variable names, names bound by macros, fields read from `inputs`), from the parse tree."""
    used: set[str] = set()
    bound: set[str] = set()
    fields: set[str] = set()
    for node in tree.iter_subtrees():
        if node.data == "ident":
            used.add(str(node.children[0]))
        elif node.data == "member_dot_arg" and str(node.children[1]) in MACROS:
            first = next(node.children[2].iter_subtrees_topdown(), None) if len(node.children) > 2 else None
            idents = [t for t in (first.iter_subtrees() if first is not None else []) if t.data == "ident"]
            if idents:
                bound.add(str(idents[0].children[0]))
        elif node.data == "member_dot":
            target, field = node.children[0], node.children[1]
            primaries = [t for t in target.iter_subtrees() if t.data == "ident"]
            if len(primaries) == 1 and str(primaries[0].children[0]) == "inputs":
                fields.add(str(field))
    return used, bound, fields


class Expression:
    """A compiled CEL expression; compile errors surface at playbook load, with the step's name."""

    def __init__(self, source: str, where: str) -> None:
        self.source = source
        try:
            tree = _ENV.compile(source)
        except CELParseError as exc:
            raise UsageError(f"{where}: not a valid CEL expression: {source!r}: {_short(exc)}") from exc
        self.names, self._bound, self.input_fields = _names(tree)
        self._program = _ENV.program(tree, functions=FUNCTIONS)

    def unknown_names(self, variables: set[str], inputs: set[str]) -> list[str]:
        """Names this expression uses that are neither variables, nor bound by a macro, nor declared inputs: a
        typo anywhere, even in a branch that short-circuit evaluation would never reach."""
        unknown = sorted(self.names - variables - self._bound)
        unknown += sorted(f"inputs.{f}" for f in self.input_fields - inputs)
        return unknown

    def evaluate(self, activation: dict[str, Any]) -> Any:
        try:
            value = self._program.evaluate(cast(Any, json_to_cel(activation)))
        except (CELEvalError, TypeError, ValueError, KeyError, ZeroDivisionError) as exc:
            raise ConditionError(f"{self.source!r}: {_short(exc)}") from exc
        if isinstance(value, CELEvalError):
            raise ConditionError(f"{self.source!r}: {_short(value)}")
        return _plain(value)

    def truth(self, activation: dict[str, Any]) -> bool:
        value = self.evaluate(activation)
        if not isinstance(value, bool):
            raise ConditionError(f"{self.source!r} gave {value!r}, not true or false")
        return value


def _plain(value: Any) -> Any:
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celtypes.IntType, celtypes.UintType)):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [_plain(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
