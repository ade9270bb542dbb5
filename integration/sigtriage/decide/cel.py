"""Playbook conditions in CEL (Common Expression Language, via cel-python): safe, side-effect free, not
Turing-complete, and standard across SOAR tooling. Never Python eval."""

from __future__ import annotations

from typing import Any, cast

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

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


class Expression:
    """A compiled CEL expression; compile errors surface at playbook load, with the step's name."""

    def __init__(self, source: str, where: str) -> None:
        self.source = source
        try:
            self._program = _ENV.program(_ENV.compile(source), functions=FUNCTIONS)
        except CELParseError as exc:
            raise UsageError(f"{where}: not a valid CEL expression: {source!r}: {_short(exc)}") from exc

    def undeclared(self, activation: dict[str, Any]) -> str | None:
        """The error if this expression names a variable `activation` lacks (checked when a playbook loads)."""
        try:
            self.evaluate(activation)
        except ConditionError as exc:
            return str(exc) if "undeclared reference" in str(exc) else None
        return None

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
