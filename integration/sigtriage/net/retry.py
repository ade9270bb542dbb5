"""When to try a failed remote call again: retryable errors only, exponential backoff, server's Retry-After.

A policy object rather than retries inside SafeSession, because only the caller knows whether a request is
safe to repeat and how long its playbook step may wait. Sleep and clock are injectable so tests never wait.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

from sigtriage.errors import ExternalError, UsageError
from sigtriage.net.errors import HTTPStatusError

log = logging.getLogger("sigtriage.net")

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def retry_after_seconds(value: str, now: datetime) -> float | None:
    """Retry-After as seconds to wait: delta-seconds or an HTTP-date (RFC 9110); None if unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # '-0000' zone: RFC 5322 says UTC with unknown local offset
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff_base: float = 1.0
    """Wait before the 2nd attempt; doubled for each one after."""
    max_backoff: float = 30.0
    """Longest wait. A server asking (Retry-After) for longer gets no retry at all: waiting past what the
    caller budgeted stalls a playbook, retrying sooner than asked earns another 429."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = _utc_now
    """Only to read Retry-After HTTP-dates."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.backoff_base < 0 or self.max_backoff < 0:
            raise UsageError("retry: max_attempts must be at least 1, backoffs not negative")

    def call(self, operation: Callable[[], T]) -> T:
        """Run `operation`, repeating it after retryable ExternalErrors; the last error propagates."""
        attempt = 1
        while True:
            try:
                return operation()
            except ExternalError as exc:
                delay = self.delay_after(attempt, exc)
                if delay is None:
                    raise
                log.info("attempt %d failed (%s); retrying in %.1f s", attempt, exc, delay)
            self.sleep(delay)
            attempt += 1

    def delay_after(self, attempt: int, error: ExternalError) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up."""
        if not error.retryable or attempt >= self.max_attempts:
            return None
        if isinstance(error, HTTPStatusError) and error.retry_after:
            asked = retry_after_seconds(error.retry_after, self.clock())
            if asked is not None:
                return asked if asked <= self.max_backoff else None
        return min(self.max_backoff, self.backoff_base * 2.0 ** (attempt - 1))
