"""What a connector is (`Connector`), and the reference fake every dry run and test uses (`MemoryConnector`).

The contract, which the outbox relies on:
- `execute` never raises for anything the remote side or the network does: it answers an `ActionResult`, with
  `retryable=True` only where trying the same action again later may succeed (429, 5xx, timeouts, connection
  failures) and a detail an analyst can act on ("TheHive rejected the API key (401)");
- an action the connector cannot carry out (unsupported kind, missing or malformed parameters) is a permanent
  failure, also returned rather than raised, so one bad action does not stop the others;
- secrets never appear in `detail`, `response`, log lines or exception messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sigtriage.model.decision import Action, ActionKind, ActionResult

log = logging.getLogger("sigtriage.act")


@runtime_checkable
class Connector(Protocol):
    name: str
    """The name actions address it by (`Target.connector`)."""

    def supports(self, kind: ActionKind) -> bool: ...

    def execute(self, action: Action) -> ActionResult: ...


class InvalidAction(ValueError):
    """The action cannot be carried out as given (a missing or malformed parameter): a permanent failure."""


def unsupported(connector: str, kind: ActionKind) -> ActionResult:
    return ActionResult(ok=False, retryable=False, detail=f"{connector} does not support {kind.value} actions")


def record(connector: str, action: Action, result: ActionResult) -> ActionResult:
    """Log the outcome (the audit trail of side effects) and pass the result through."""
    outcome = "ok" if result.ok else ("failed, retryable" if result.retryable else "failed")
    # %r: a ref can come from alert data, and must not forge log lines
    log.info("%s %s %r: %s (%s)", connector, action.kind.value, action.target.ref, outcome, result.detail)
    return result


@dataclass
class MemoryConnector:
    """An in-memory connector: records the actions it is given instead of calling anything.

    Dry runs route every action here so a playbook can be exercised end to end without side effects, and tests
    use it to drive the outbox: `fail_next(n)` makes the next n executions fail as a remote outage would
    (retryable), optionally with a server-requested delay in `response['retry_after']` like a 429.
    """

    name: str = "memory"
    kinds: frozenset[ActionKind] = frozenset(ActionKind)
    executed: list[Action] = field(default_factory=list)
    """Actions that succeeded, in order."""
    attempts: list[Action] = field(default_factory=list)
    """Every supported action execute() was called with, failed ones included."""
    _failures: list[tuple[str, float | None]] = field(default_factory=list, repr=False)

    def fail_next(self, times: int, *, detail: str = "simulated outage", retry_after: float | None = None) -> None:
        self._failures.extend([(detail, retry_after)] * times)

    def supports(self, kind: ActionKind) -> bool:
        return kind in self.kinds

    def execute(self, action: Action) -> ActionResult:
        if not self.supports(action.kind):
            return record(self.name, action, unsupported(self.name, action.kind))
        self.attempts.append(action)
        if self._failures:
            detail, retry_after = self._failures.pop(0)
            response: dict[str, Any] = {} if retry_after is None else {"retry_after": retry_after}
            return record(self.name, action, ActionResult(False, True, f"{self.name}: {detail}", response))
        self.executed.append(action)
        detail = f"{self.name}: recorded {action.kind.value}"
        return record(self.name, action, ActionResult(True, False, detail, {"sequence": len(self.executed)}))
