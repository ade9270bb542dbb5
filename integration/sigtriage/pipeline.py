"""Composition root of the assessment: builds the resources of a run once and wires the layers.

    extract (analyze_file) -> gather (revocation, intel, prevalence) -> judge (assess, pure)

All I/O of an assessment happens here or below `extract`, `gather`, `net` and `store`; `judge` sees only data.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sigtriage.config.baseline import load_baseline
from sigtriage.config.settings import Settings
from sigtriage.extract.analyze import Options, analyze_file
from sigtriage.extract.trust import TrustStore, load_trust_store
from sigtriage.gather.crlstore import CrlCache
from sigtriage.gather.intel import IntelDatabase, load_intel
from sigtriage.gather.revocation import check_revocation
from sigtriage.judge.assess import assess
from sigtriage.judge.checks import publisher_keys
from sigtriage.model import AnalysisReport
from sigtriage.model.assessment import Assessment
from sigtriage.model.baseline import Baseline
from sigtriage.model.context import ExecutionContext
from sigtriage.model.evidence import IntelMatch
from sigtriage.net import SafeSession
from sigtriage.store.db import connect
from sigtriage.store.prevalence import PrevalenceStore

UNKNOWN_HOST = "(unknown host)"


@dataclass
class Engine:
    """Everything an assessment needs that is costly to build: made once, used for many files."""

    settings: Settings
    baseline: Baseline
    trust: TrustStore
    intel: IntelDatabase
    session: SafeSession | None
    crl_cache: CrlCache | None
    _db: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = connect(self.settings.store_path)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def build_engine(settings: Settings, *, baseline_path: Path | None = None,
                 session: SafeSession | None = None) -> Engine:
    """`session` replaces the one built from settings.net (tests inject one with a fake resolver)."""
    baseline = load_baseline(baseline_path or settings.baseline)
    trust = load_trust_store(settings.anchors, microsoft=settings.microsoft_roots, extra_pems=baseline.internal_ca_pems)
    offline = settings.revocation.mode == "off" or settings.revocation.offline_crl_dir is not None
    return Engine(
        settings=settings,
        baseline=baseline,
        trust=trust,
        intel=load_intel(settings.intel_feeds),
        session=None if offline else session or SafeSession(settings.net),
        crl_cache=None if offline else CrlCache(settings.crl_cache),
    )


def analyze(engine: Engine, path: Path, *, at: datetime | None = None,
            context: ExecutionContext | None = None) -> AnalysisReport:
    """Analyse; computes MD5/SHA-1 too when the alert offers only those to tie the file to it."""
    needs_more = context is not None and not context.sha256 and bool(context.sha1 or context.md5)
    options = Options(at=at, all_hashes=engine.settings.all_hashes or needs_more,
                      timeout=engine.settings.analysis_timeout)
    return analyze_file(path, engine.trust, options)


def _intel(engine: Engine, analysis: AnalysisReport) -> tuple[IntelMatch, ...]:
    seen: dict[tuple[str, str, str | None], IntelMatch] = {}
    for sig in analysis.signatures:
        for cert in sig.embedded_certificates:
            for match in engine.intel.match(cert):
                seen.setdefault((match.certificate, match.entry.source, match.entry.reference), match)
    return tuple(seen.values())


def assess_analysis(engine: Engine, analysis: AnalysisReport, context: ExecutionContext | None, *,
                    now: datetime | None = None) -> Assessment:
    """Gather evidence for an analysis report and judge it; records the sighting in the prevalence store."""
    now = now or datetime.now(timezone.utc)
    revocation = check_revocation(analysis.signatures, engine.settings.revocation, engine.session,
                                  engine.crl_cache, now)
    keys = publisher_keys(analysis)
    host = (context.host if context else None) or UNKNOWN_HOST
    store = PrevalenceStore(engine.db) if keys else None
    prevalence = store.lookup(keys, excluding_host=host, excluding_sha256=analysis.file.sha256) if store else ()
    result = assess(analysis, context=context, baseline=engine.baseline, revocation=revocation,
                    intel=_intel(engine, analysis), prevalence=prevalence, now=now, policy=engine.settings.scoring)
    if store is not None and engine.settings.record_prevalence:
        store.record(keys, host=host, sha256=analysis.file.sha256, when=(context.event_time if context else None) or now)
    return result


def assess_file(engine: Engine, path: Path, context: ExecutionContext | None, *,
                now: datetime | None = None) -> Assessment:
    return assess_analysis(engine, analyze(engine, path, context=context), context, now=now)
