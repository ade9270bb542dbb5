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
    """One digest. Its blocks are hashed in order by a single-thread executor, or inline by the reader."""

    def __init__(self, algorithm: str, ranges: tuple[Range, ...] | None, *, inline: bool = False) -> None:
        self.algorithm = algorithm
        self.ranges = ranges
        self.hasher = hashlib.new(algorithm)
        self.executor = None if inline else ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hash-{algorithm}")
        self.pending: deque[Future[None]] = deque()

    def _update(self, block: memoryview, offset: int) -> None:
        if self.ranges is None:
            self.hasher.update(block)
            return
        end = offset + len(block)
        for r in self.ranges:
            if r.start < end and r.end > offset:
                self.hasher.update(block[max(r.start, offset) - offset : min(r.end, end) - offset])

    def feed(self, block: memoryview, offset: int) -> None:
        if self.executor is None:
            self._update(block, offset)
            return
        self.pending.append(self.executor.submit(self._update, block, offset))
        while len(self.pending) > IN_FLIGHT:
            self.pending.popleft().result()

    def finish(self) -> str:
        while self.pending:
            self.pending.popleft().result()
        if self.executor is not None:
            self.executor.shutdown()
        return self.hasher.hexdigest()

    def abandon(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)


def digest_stream(
    stream: BinaryIO,
    *,
    whole: tuple[str, ...],
    authenticode: tuple[str, ...] = (),
    authenticode_ranges: tuple[Range, ...] = (),
    block_size: int = BLOCK_SIZE,
) -> Digests:
    """Hash `stream` from its start to its end once, for all requested algorithms.

    The first whole-file digest runs in the reading thread (reading from the page cache is a memcpy, so the
    reader has time to spare); the others each get a worker thread.
    """
    lanes = [_Lane(a, None, inline=i == 0) for i, a in enumerate(whole)]
    lanes += [_Lane(a, authenticode_ranges) for a in authenticode]
    # a ring of reusable buffers: block n+RING reuses block n's buffer, which every lane has finished by then,
    # since a lane never has more than IN_FLIGHT blocks pending
    ring = [bytearray(block_size) for _ in range(IN_FLIGHT + 2)]
    stream.seek(0)
    offset = 0
    number = 0
    try:
        while True:
            buffer = ring[number % len(ring)]
            count = stream.readinto(buffer)  # type: ignore[attr-defined]
            if not count:
                break
            view = memoryview(buffer)[:count]
            for lane in lanes:
                lane.feed(view, offset)
            offset += count
            number += 1
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
