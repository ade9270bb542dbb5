"""Playbooks as data: a document validated by schemas/playbook.schema.json (config/playbook.py reads the YAML),
parsed into frozen steps through a type -> class registry. Unknown keys are rejected with the step's id; conditions are compiled at load time."""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from typing import Any

from sigtriage.decide.cel import ConditionError, Expression
from sigtriage.decide.facts import activation
from sigtriage.decide.steps import STEP_TYPES, Step
from sigtriage.errors import UsageError

@dataclass(frozen=True)
class InputSpec:
    type: str
    default: bool | int | str
    description: str = ""


@dataclass(frozen=True)
class Playbook:
    name: str
    version: int
    description: str
    inputs: dict[str, InputSpec]
    steps: tuple[Step, ...]
    digest: str = ""
    """SHA-256 of the playbook's content: part of the triage key, so an edit is a new decision."""

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def resolve_inputs(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """Defaults, overridden by configuration and command line; unknown names and wrong types are errors."""
        unknown = set(overrides) - set(self.inputs)
        if unknown:
            raise UsageError(f"playbook {self.label} has no input(s) {sorted(unknown)}; it takes {sorted(self.inputs)}")
        values = {}
        for name, spec in self.inputs.items():
            value = overrides.get(name, spec.default)
            values[name] = _coerce(name, spec.type, value)
        return values


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _coerce(name: str, kind: str, value: Any) -> bool | int | str:
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
    elif kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
    elif isinstance(value, str):
        return value
    raise UsageError(f"playbook input {name!r} must be a {kind}, not {value!r}")


def _check_names(steps: list[Step], inputs: set[str], source: str) -> None:
    """Every name a condition, expression or tag uses must be a documented variable or a declared input: a typo
    is an error when the playbook loads, never a condition that silently stays false. Conditions must give
    true or false on a sample of every variable."""
    variables = set(activation(None, None, "sample", {}, "", []))
    sample = activation(None, None, "sample", {name: "" for name in inputs}, "", [])
    for step in steps:
        where = f"{source}: step {step.id!r}"
        expressions = [e for e in [step.when, *(getattr(step, n) for n in type(step).EXPRESSIONS)] if e is not None]
        for expression in expressions:
            unknown = expression.unknown_names(variables, inputs)
            if unknown:
                raise UsageError(f"{where}: {expression.source!r} uses unknown name(s) {', '.join(unknown)}; "
                                 f"variables: {', '.join(sorted(variables))}; inputs: {', '.join(sorted(inputs))}")
        if step.when is not None:
            try:
                value = step.when.evaluate(sample)
            except ConditionError:
                value = True  # a lookup that depends on the data (a map key) is judged at run time
            if not isinstance(value, bool):
                raise UsageError(f"{where}: when {step.when.source!r} gives {type(value).__name__}, not true/false")
        for tag in getattr(step, "tags", ()):
            fields = {f for _, f, _, _ in string.Formatter().parse(tag) if f}
            if fields - variables:
                raise UsageError(f"{where}: tag {tag!r} uses unknown variable(s) {sorted(fields - variables)}")


def parse_playbook(doc: dict[str, Any], source: str) -> Playbook:
    steps: list[Step] = []
    seen: set[str] = set()
    for raw in doc["steps"]:
        step_id = raw["id"]
        if step_id in seen:
            raise UsageError(f"{source}: step id {step_id!r} is used twice")
        seen.add(step_id)
        cls = STEP_TYPES[raw["type"]]
        params = {k: v for k, v in raw.items() if k not in ("id", "type", "when")}
        where = f"{source}: step {step_id!r} ({raw['type']})"
        when = Expression(raw["when"], f"{where} when") if "when" in raw else None
        steps.append(cls.parse(step_id, when, params, where))
    inputs = {k: InputSpec(v["type"], v["default"], v.get("description", "")) for k, v in doc.get("inputs", {}).items()}
    _check_names(steps, set(inputs), source)
    order = [s.type for s in steps if s.type in ("analyse", "assess")]
    if order != ["analyse", "assess"] or [s.type for s in steps[:2]] != ["analyse", "assess"]:
        raise UsageError(f"{source}: a playbook starts with one 'analyse' step and then one 'assess' step")
    return Playbook(
        name=doc["name"],
        version=doc["version"],
        description=doc.get("description", ""),
        inputs=inputs,
        steps=tuple(steps),
        digest=hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest(),
    )
