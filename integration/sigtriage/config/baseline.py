"""Load, write and learn baselines (YAML, validated by schemas/baseline.schema.json)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from sigtriage.config.validate import load_yaml, validate
from sigtriage.errors import InputError
from sigtriage.extract.trust import parse_certificates
from sigtriage.model import AnalysisReport, Status
from sigtriage.model.baseline import Baseline, BlockedCertificate, PinnedPublisher, Thresholds

WHQL_EKU = "microsoft_whql"
DEFAULT_BASELINE = Path(__file__).resolve().parent.parent / "data" / "default-baseline.yml"


def _lower(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(v.lower() for v in values)


def _serial(text: str) -> str:
    return text.replace(":", "").lower()


def from_document(doc: dict[str, Any], *, base_dir: Path) -> Baseline:
    pems: list[str] = []
    for ca in doc.get("internal_cas", []):
        if "pem" in ca:
            pems.append(ca["pem"])
        else:
            path = (base_dir / ca["file"]).resolve()
            try:
                pems.append(path.read_text(encoding="ascii"))
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"internal CA '{ca['name']}': cannot read {path}: {exc}") from exc
    for ca, pem in zip(doc.get("internal_cas", []), pems, strict=True):
        try:
            parse_certificates(pem.encode("ascii", errors="replace"), f"internal CA {ca['name']!r}")
        except InputError as exc:
            raise InputError(f"{exc}", context=f"baseline {doc['name']}") from exc
    canonical = json.dumps(doc, sort_keys=True, default=str) + "".join(pems)
    return Baseline(
        digest=hashlib.sha256(canonical.encode()).hexdigest(),
        name=doc["name"],
        version=doc["version"],
        publishers=tuple(
            PinnedPublisher(name=p["name"], certificates=_lower(p.get("certificates", [])),
                            spki=_lower(p.get("spki", [])), roots=_lower(p.get("roots", [])),
                            names=tuple(p.get("names", [])))
            for p in doc.get("publishers", [])
        ),
        internal_ca_pems=tuple(pems),
        blocked_certificates=tuple(
            BlockedCertificate(sha256=b.get("sha256", "").lower() or None, issuer=b.get("issuer"),
                               serial=_serial(b["serial"]) if "serial" in b else None, reason=b["reason"])
            for b in doc.get("blocked_certificates", [])
        ),
        approved_hashes=frozenset(_lower(doc.get("approved_hashes", []))),
        blocked_hashes=frozenset(_lower(doc.get("blocked_hashes", []))),
        aliases={k: tuple(v) for k, v in doc.get("aliases", {}).items()},
        thresholds=Thresholds(**doc.get("thresholds", {})),
        weights=dict(doc.get("weights", {})),
    )


def load_baseline(path: Path | None) -> Baseline:
    """The given baseline, or the embedded default (Microsoft's own code-signing CAs pinned)."""
    path = path or DEFAULT_BASELINE
    document = load_yaml(path, "baseline")
    return from_document(document, base_dir=path.parent)


def learn(reports: Iterable[AnalysisReport], *, name: str, include_hashes: bool = False) -> dict[str, Any]:
    """A starting baseline from known-good software: one publisher per signer organisation, pinned by the
    issuing CA(s) and root(s) its valid signatures chained to. Review it before use: it trusts what it saw.

    WHQL signatures are left out: their signer is Microsoft attesting a third party's driver, so pinning them
    would approve every WHQL-signed driver in the world under the name 'Microsoft Corporation'."""
    publishers: dict[str, dict[str, set[str]]] = {}
    hashes: set[str] = set()
    for report in reports:
        valid = [s for s in report.signatures if s.status is Status.VALID and s.signer and len(s.chain) >= 2
                 and WHQL_EKU not in s.signer.ekus]
        if not valid:
            continue
        if include_hashes:
            hashes.add(report.file.sha256)
        for sig in valid:
            assert sig.signer is not None
            label = sig.signer.subject.o or sig.signer.subject.cn or sig.signer.subject.dn
            entry = publishers.setdefault(label, {"certificates": set(), "roots": set(), "names": set()})
            entry["certificates"].add(sig.chain[1].sha256)
            entry["roots"].add(sig.chain[-1].sha256)
            entry["names"].add(sig.signer.subject.cn or label)
    doc: dict[str, Any] = {
        "name": name,
        "version": 1,
        "publishers": [
            {"name": label, "certificates": sorted(e["certificates"]), "roots": sorted(e["roots"]),
             "names": sorted(e["names"])}
            for label, e in sorted(publishers.items())
        ],
    }
    if include_hashes:
        doc["approved_hashes"] = sorted(hashes)
    validate(doc, "baseline", source="learned baseline")
    return doc


def dump(doc: dict[str, Any]) -> str:
    header = ("# sigtriage baseline, learned from a folder of known-good software.\n"
              "# Review every publisher before trusting it; see README 'Baseline'.\n")
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
