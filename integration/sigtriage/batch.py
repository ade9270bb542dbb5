"""Analyse many files: walk directories, fan out to worker processes, keep input order, never stop on one file.

Each worker loads the trust store once (its initializer) and analyses files in its main thread, so the per-file
time limit (SIGALRM) holds there. One failing file becomes an AnalysisFailure; the run goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sigtriage.errors import InputError
from sigtriage.extract.analyze import Catalogs, Options, analyze_file, load_catalogs
from sigtriage.extract.limits import AnalysisTimeout
from sigtriage.extract.trust import TrustStore, load_trust_store
from sigtriage.model import AnalysisFailure, AnalysisReport

Result = AnalysisReport | AnalysisFailure

_worker_trust: TrustStore | None = None
_worker_options: Options | None = None
_worker_catalogs: Catalogs = []


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and every regular file below each directory, in a stable (sorted) order."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def analyze_one(path: Path, trust: TrustStore, options: Options, catalogs: Catalogs | None = None) -> Result:
    try:
        return analyze_file(path, trust, options, catalogs)
    except AnalysisTimeout as exc:
        return AnalysisFailure(path=str(path), error_type="timeout", message=exc.message)
    except InputError as exc:
        return AnalysisFailure(path=str(path), error_type="input", message=exc.message)
    except Exception as exc:  # noqa: BLE001 - one file's bug must not stop a walk; reported, never benign
        return AnalysisFailure(path=str(path), error_type="internal", message=f"{type(exc).__name__}: {exc}")


def _init_worker(anchor_files: tuple[Path, ...], microsoft: bool, options: Options) -> None:
    global _worker_trust, _worker_options, _worker_catalogs  # noqa: PLW0603 - a worker's own state, set once
    _worker_trust = load_trust_store(anchor_files, microsoft=microsoft)
    _worker_options = options
    _worker_catalogs = load_catalogs(options.catalogs)


def _work(path: Path) -> Result:
    assert _worker_trust is not None and _worker_options is not None
    return analyze_one(path, _worker_trust, _worker_options, _worker_catalogs)


def analyze_many(files: list[Path], *, anchor_files: tuple[Path, ...], microsoft: bool, options: Options,
                 workers: int, trust: TrustStore | None = None,
                 catalogs: Catalogs | None = None) -> Iterator[Result]:
    """Results in the order of `files`. With one worker (or one file) everything runs in this process, reusing
    `trust` and `catalogs` when the caller already loaded them; worker processes load their own, once each."""
    if workers <= 1 or len(files) <= 1:
        trust = trust or load_trust_store(anchor_files, microsoft=microsoft)
        catalogs = load_catalogs(options.catalogs) if catalogs is None else catalogs
        for path in files:
            yield analyze_one(path, trust, options, catalogs)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(anchor_files, microsoft, options)) as pool:
        yield from pool.map(_work, files, chunksize=4)
