"""Durable delivery of the outbox: each stored action is carried out through its connector once, surviving
crashes and concurrent flushes (several processes may flush the same database at the same time).

A flush claims one action at a time in a short transaction (state in_flight, with a lease), calls the connector
outside any transaction (a slow remote must not hold the database's write lock), and then settles the outcome:

    ok                                   -> delivered
    retryable, attempts left             -> pending, due after the backoff (or the connector's retry_after if longer)
    not retryable, or out of attempts    -> failed (a human can `CaseStore.requeue` it)

A worker that dies mid-call leaves its action in flight; once the lease expires another flush retakes it. A
retaken call may be a repeat (the dead worker's call may have reached the remote), which connectors make harmless
with the idempotency key; and `lease_seconds` must exceed the slowest connector call, or a live worker's action
is retaken too. An action whose attempts all ended that way is failed
without another call: it may be what kills the worker.

Order: a case's actions are delivered in the order they were enqueued, and an action waits while an earlier
one of its case is pending, in flight or failed; a close never overtakes a note that did not go out. Actions
awaiting approval (or stored by a dry run) do not hold the others back. See `CaseStore.claim_next`.

A connector that raises (its contract is to return a failed ActionResult) is a bug: the exception propagates,
and the action is retaken after its lease like a crashed worker's, until its attempts run out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sigtriage.errors import ExternalError
from sigtriage.model.decision import Action, ActionResult
from sigtriage.net.retry import RetryPolicy
from sigtriage.store.cases import CaseStore, Claim, Settled

log = logging.getLogger("sigtriage.act")


class Executor(Protocol):
    """What the outbox needs of a connector (sigtriage.act.connectors): run one action, report, never raise."""

    def execute(self, action: Action) -> ActionResult: ...


@dataclass(frozen=True)
class FlushReport:
    delivered: int
    retried: int
    """Attempts that failed and were rescheduled."""
    failed: int
    waiting: int
    """Due actions left held back, at the end, by an earlier unfinished action of their case."""


OUTBOX_RETRY = RetryPolicy(max_attempts=12, backoff_base=30.0, max_backoff=3600.0)
"""A SOAR or EDR outage of hours must not exhaust an action's attempts: 30 s doubling to 1 h, 12 attempts (about
7 hours). After that the action is `failed`, holds back its case, and waits for `sigtriage outbox requeue` or a
re-run of the triage."""


def flush(store: CaseStore, connectors: Mapping[str, Executor], *, now: Callable[[], datetime],
          policy: RetryPolicy = OUTBOX_RETRY, max_actions: int = 100, lease_seconds: float = 60.0) -> FlushReport:
    """Deliver due actions until none is left or `max_actions` attempts were made."""
    counts = {"delivered": 0, "pending": 0, "failed": 0}
    for _ in range(max_actions):
        claimed_at = now()
        claim = store.claim_next(now=claimed_at, lease_until=claimed_at + timedelta(seconds=lease_seconds))
        if claim is None:
            break
        result = _attempt(claim, connectors, policy)
        finished = now()
        state: Settled
        retry_at: datetime | None
        if result.ok:
            state, retry_at = "delivered", None
        elif (delay := _retry_delay(claim.attempt, result, policy)) is None:
            state, retry_at = "failed", None
        else:
            state, retry_at = "pending", finished + timedelta(seconds=delay)
        if store.settle(claim, state, result, now=finished, next_attempt_at=retry_at):
            counts[state] += 1
        else:
            log.warning("action %s: lease expired during the call and another worker took it over; this result"
                        " (%s) was only audited", claim.action.idempotency_key, result.detail)
    return FlushReport(delivered=counts["delivered"], retried=counts["pending"], failed=counts["failed"],
                       waiting=store.count_waiting(now=now()))


def _attempt(claim: Claim, connectors: Mapping[str, Executor], policy: RetryPolicy) -> ActionResult:
    if claim.attempt > policy.max_attempts:
        return ActionResult(ok=False, retryable=False, detail=f"gave up after {policy.max_attempts} attempts whose"
                            " worker never reported back (lease expired; did the call crash it?)")
    connector = connectors.get(claim.action.target.connector)
    if connector is None:
        return ActionResult(ok=False, retryable=False,
                            detail=f"no connector {claim.action.target.connector!r} is configured for this action")
    return connector.execute(claim.action)


def _retry_delay(attempt: int, result: ActionResult, policy: RetryPolicy) -> float | None:
    """Seconds until the next attempt of a failed one, or None for no retry. The backoff is RetryPolicy's; a
    connector's retry_after (the remote's Retry-After) wins when longer: asking again sooner only earns a refusal.
    Unlike an in-process retry, a long wait costs nothing here, so it is not capped."""
    if not result.retryable:
        return None
    backoff = policy.delay_after(attempt, ExternalError(result.detail, retryable=True))
    if backoff is None:
        return None
    asked = result.response.get("retry_after")
    if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked > backoff:
        return float(asked)
    return backoff
