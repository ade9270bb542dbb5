"""One streaming pass over a file for every digest we need: whole-file hashes and Authenticode hashes.

The file is read once, in fixed-size blocks, and each digest runs in its own worker thread (hashlib releases the
GIL on large updates), so memory stays at a few blocks whatever the file size, and on several cores the pass
costs about as much as its slowest digest rather than the sum of them.
"""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

BLOCK_SIZE = 1 << 20
IN_FLIGHT = 4  # blocks queued per digest before the reader waits: bounds memory


@dataclass(frozen=True)
class Range:
    start: int
    end: int


@dataclass(frozen=True)
class Digests:
    whole: dict[str, str]
    authentihash: dict[str, str]


class _Lane:
    """One digest, fed in order by a single-thread executor."""

    def __init__(self, algorithm: str, ranges: tuple[Range, ...] | None) -> None:
        self.algorithm = algorithm
        self.ranges = ranges
        self.hasher = hashlib.new(algorithm)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hash-{algorithm}")
        self.pending: deque[Future[None]] = deque()

    def feed(self, block: memoryview, offset: int) -> None:
        if self.ranges is None:
            parts = [block]
        else:
            end = offset + len(block)
            parts = [
                block[max(r.start, offset) - offset : min(r.end, end) - offset]
                for r in self.ranges
                if r.start < end and r.end > offset
            ]
        for part in parts:
            self.pending.append(self.executor.submit(self.hasher.update, part))
        while len(self.pending) > IN_FLIGHT:
            self.pending.popleft().result()

    def finish(self) -> str:
        while self.pending:
            self.pending.popleft().result()
        self.executor.shutdown()
        return self.hasher.hexdigest()

    def abandon(self) -> None:
        self.executor.shutdown(cancel_futures=True)


def digest_stream(
    stream: BinaryIO,
    *,
    whole: tuple[str, ...],
    authenticode: tuple[str, ...] = (),
    authenticode_ranges: tuple[Range, ...] = (),
    block_size: int = BLOCK_SIZE,
) -> Digests:
    """Hash `stream` from its start to its end once, for all requested algorithms."""
    lanes = [_Lane(a, None) for a in whole] + [_Lane(a, authenticode_ranges) for a in authenticode]
    stream.seek(0)
    offset = 0
    try:
        while True:
            # a fresh buffer per block: the lanes still hash earlier blocks while we read the next
            buffer = bytearray(block_size)
            count = stream.readinto(buffer)  # type: ignore[attr-defined]
            if not count:
                break
            view = memoryview(buffer)[:count]
            for lane in lanes:
                lane.feed(view, offset)
            offset += count
        results = [(lane, lane.finish()) for lane in lanes]
    except BaseException:
        for lane in lanes:
            lane.abandon()
        raise
    n_whole = len(whole)
    return Digests(
        whole={lane.algorithm: digest for lane, digest in results[:n_whole]},
        authentihash={lane.algorithm: digest for lane, digest in results[n_whole:]},
    )
