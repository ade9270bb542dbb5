"""The playbook step types: one small frozen class each, registered by type name in STEP_TYPES.

A step's parameters are checked when the playbook loads (unknown keys rejected, types checked, CEL compiled);
what a step does when it runs is in runner.py, which dispatches on the class.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, ClassVar

from sigtriage.decide.cel import Expression
from sigtriage.errors import UsageError
from sigtriage.model.decision import DecisionKind


@dataclass(frozen=True)
class Step:
    id: str
    when: Expression | None
    type: ClassVar[str] = ""
    PARAMS: ClassVar[dict[str, tuple[builtins.type, bool]]] = {}
    """name -> (type, required)."""
    EXPRESSIONS: ClassVar[frozenset[str]] = frozenset()
    """Parameters that are CEL expressions, compiled at load."""

    @classmethod
    def parse(cls, step_id: str, when: Expression | None, params: dict[str, Any], where: str) -> Step:
        unknown = set(params) - set(cls.PARAMS)
        if unknown:
            allowed = ", ".join(sorted(cls.PARAMS)) or "none"
            raise UsageError(f"{where}: unknown key(s) {sorted(unknown)}; this step type takes: {allowed}")
        values: dict[str, Any] = {}
        for name, (kind, required) in cls.PARAMS.items():
            if name not in params:
                if required:
                    raise UsageError(f"{where}: missing required key {name!r}")
                continue
            value = params[name]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise UsageError(f"{where}: {name!r} must be {kind.__name__}, not {value!r}")
            values[name] = Expression(str(value), f"{where} {name}") if name in cls.EXPRESSIONS else value
        return cls._build(step_id, when, values, where)

    @classmethod
    def _build(cls, step_id: str, when: Expression | None, values: dict[str, Any], where: str) -> Step:
        return cls(step_id, when, **values)


@dataclass(frozen=True)
class Analyse(Step):
    """Marks where the binary is analysed (the pipeline runs it; the trace records its outcome)."""

    type: ClassVar[str] = "analyse"


@dataclass(frozen=True)
class Assess(Step):
    """Marks where the analysis is assessed against baseline, evidence and context."""

    type: ClassVar[str] = "assess"


@dataclass(frozen=True)
class Decide(Step):
    """Sets the decision when its condition holds and nothing has decided yet (first match wins)."""

    decision: DecisionKind = DecisionKind.ESCALATE
    reason: str = ""
    type: ClassVar[str] = "decide"
    PARAMS: ClassVar[dict[str, tuple[builtins.type, bool]]] = {"decision": (str, True), "reason": (str, True)}

    @classmethod
    def _build(cls, step_id: str, when: Expression | None, values: dict[str, Any], where: str) -> Step:
        try:
            decision = DecisionKind(values["decision"])
        except ValueError:
            raise UsageError(f"{where}: decision must be one of {[d.value for d in DecisionKind]}") from None
        return cls(step_id, when, decision=decision, reason=values["reason"])


@dataclass(frozen=True)
class AddNote(Step):
    """Adds the Markdown case note to the SOAR alert."""

    type: ClassVar[str] = "add_note"


@dataclass(frozen=True)
class SetSeverity(Step):
    """Sets the alert's severity (1 low .. 4 critical) from a CEL expression."""

    severity: Expression | None = None
    type: ClassVar[str] = "set_severity"
    PARAMS: ClassVar[dict[str, tuple[builtins.type, bool]]] = {"severity": (str, True)}
    EXPRESSIONS: ClassVar[frozenset[str]] = frozenset({"severity"})


@dataclass(frozen=True)
class Tag(Step):
    """Adds tags; `{name}` in a tag is replaced by that variable (verdict, level, privilege, decision...)."""

    tags: tuple[str, ...] = ()
    type: ClassVar[str] = "tag"
    PARAMS: ClassVar[dict[str, tuple[builtins.type, bool]]] = {"tags": (list, True)}

    @classmethod
    def _build(cls, step_id: str, when: Expression | None, values: dict[str, Any], where: str) -> Step:
        tags = values["tags"]
        if not tags or not all(isinstance(t, str) and t for t in tags):
            raise UsageError(f"{where}: tags must be a non-empty list of strings")
        return cls(step_id, when, tags=tuple(tags))


@dataclass(frozen=True)
class AddObservable(Step):
    """Adds the file's SHA-256 as an observable."""

    type: ClassVar[str] = "add_observable"


@dataclass(frozen=True)
class Close(Step):
    """Closes the alert with a recorded reason; only ever runs for an auto_close decision the safety rails allow."""

    reason: str = ""
    status: str | None = None
    type: ClassVar[str] = "close"
    PARAMS: ClassVar[dict[str, tuple[builtins.type, bool]]] = {"reason": (str, True), "status": (str, False)}


@dataclass(frozen=True)
class Escalate(Step):
    """Escalates: optionally promotes the alert to a case."""

    promote: bool = False
    type: ClassVar[str] = "escalate"
    PARAMS: ClassVar[dict[str, tuple[builtins.type, bool]]] = {"promote": (bool, False)}


@dataclass(frozen=True)
class Contain(Step):
    """Isolates the host and/or blocks the file hash through the EDR. Needs the `containment_enabled` input."""

    isolate: bool = True
    block_hash: bool = True
    isolation_type: str = "Full"
    type: ClassVar[str] = "contain"
    PARAMS: ClassVar[dict[str, tuple[builtins.type, bool]]] = {
        "isolate": (bool, False), "block_hash": (bool, False), "isolation_type": (str, False)}
    ISOLATION_TYPES: ClassVar[frozenset[str]] = frozenset({"Full", "Selective"})

    @classmethod
    def _build(cls, step_id: str, when: Expression | None, values: dict[str, Any], where: str) -> Step:
        kind = values.get("isolation_type", "Full")
        if kind not in cls.ISOLATION_TYPES:
            raise UsageError(f"{where}: isolation_type must be one of {sorted(cls.ISOLATION_TYPES)}, not {kind!r}")
        return cls(step_id, when, **values)


@dataclass(frozen=True)
class Notify(Step):
    """Sends an event to the notification webhook."""

    event: str = ""
    type: ClassVar[str] = "notify"
    PARAMS: ClassVar[dict[str, tuple[builtins.type, bool]]] = {"event": (str, True)}


STEP_TYPES: dict[str, type[Step]] = {cls.type: cls for cls in (
    Analyse, Assess, Decide, AddNote, SetSeverity, Tag, AddObservable, Close, Escalate, Contain, Notify)}
