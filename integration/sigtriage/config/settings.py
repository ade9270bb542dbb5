"""Settings: the YAML configuration file (schemas/config.schema.json) over embedded defaults, loaded once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigtriage.config.validate import load_yaml
from sigtriage.errors import UsageError
from sigtriage.gather.revocation import RevocationConfig
from sigtriage.judge.score import ScoringPolicy
from sigtriage.model.assessment import Level
from sigtriage.model.context import Privilege
from sigtriage.net import NetConfig
from sigtriage.store.db import default_path


@dataclass(frozen=True)
class Settings:
    baseline: Path | None = None
    anchors: tuple[Path, ...] = ()
    microsoft_roots: bool = True
    analysis_timeout: float = 120.0
    all_hashes: bool = False
    revocation: RevocationConfig = RevocationConfig()
    crl_cache_dir: Path | None = None
    net: NetConfig = NetConfig()
    intel_feeds: tuple[Path, ...] = ()
    store_path: Path = field(default_factory=default_path)
    record_prevalence: bool = True
    scoring: ScoringPolicy = ScoringPolicy()
    triage: dict[str, Any] = field(default_factory=dict)
    source: str = "embedded defaults"

    @property
    def crl_cache(self) -> Path:
        return self.crl_cache_dir or self.store_path.parent / "crl-cache"


def _paths(base: Path, values: list[str]) -> tuple[Path, ...]:
    return tuple((base / v).expanduser() for v in values)


def _scoring(doc: dict[str, Any]) -> ScoringPolicy:
    default = ScoringPolicy()
    factors = dict(default.privilege_factors)
    factors.update({Privilege(k): float(v) for k, v in doc.get("privilege_factors", {}).items()})
    floors = dict((level, floor) for level, floor in default.level_floors)
    floors.update({Level(k): int(v) for k, v in doc.get("levels", {}).items()})
    if not floors[Level.MEDIUM] <= floors[Level.HIGH] <= floors[Level.CRITICAL]:
        raise UsageError("scoring.levels must rise: medium <= high <= critical")
    return ScoringPolicy(
        privilege_factors=factors,
        level_floors=tuple(sorted(floors.items(), key=lambda item: -item[1])),
        benign_below=doc.get("benign_below", default.benign_below),
        malicious_from=doc.get("malicious_from", default.malicious_from),
    )


def load_settings(path: Path | None) -> Settings:
    if path is None:
        return Settings()
    doc = load_yaml(path, "config", empty={})
    base = path.parent
    revocation = doc.get("revocation", {})
    revocation_config = RevocationConfig(**{
        k: (base / v if k == "offline_crl_dir" else v) for k, v in revocation.items() if k != "cache_dir"})
    net = dict(doc.get("net", {}))
    if "ca_bundle" in net:
        net["ca_bundle"] = str(base / net["ca_bundle"])
    for key in ("allow_hosts", "allow_cidrs", "allowed_ports"):
        if key in net:
            net[key] = tuple(net[key])
    store = doc.get("store", {})
    analysis = doc.get("analysis", {})
    settings = Settings(
        baseline=base / doc["baseline"] if "baseline" in doc else None,
        anchors=_paths(base, doc.get("trust", {}).get("anchors", [])),
        microsoft_roots=doc.get("trust", {}).get("microsoft_roots", True),
        analysis_timeout=float(analysis.get("timeout_seconds", 120.0)),
        all_hashes=bool(analysis.get("all_hashes", False)),
        revocation=revocation_config,
        crl_cache_dir=base / revocation["cache_dir"] if "cache_dir" in revocation else None,
        net=NetConfig(**net),
        intel_feeds=_paths(base, doc.get("intel", {}).get("feeds", [])),
        record_prevalence=store.get("record_prevalence", True),
        scoring=_scoring(doc.get("scoring", {})),
        triage=dict(doc.get("triage", {})),
        source=str(path),
    )
    if "path" in store:
        settings = dataclasses.replace(settings, store_path=(base / store["path"]).expanduser())
    return settings
