"""Bound the work spent on one file, so a hostile input can never hang a run."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from sigtriage.errors import AnalysisError


class AnalysisTimeout(AnalysisError):
    pass


@contextmanager
def time_limit(seconds: float | None, context: str) -> Iterator[None]:
    """Raise AnalysisTimeout after `seconds` of wall time (SIGALRM; main thread only, a no-op elsewhere).

    Worker processes of a directory walk run each file in their main thread, so the limit holds there too.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise AnalysisTimeout(f"analysis took longer than {seconds:g} s and was stopped", context=context)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
