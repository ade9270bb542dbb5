"""Assessment checks: small pure functions (Facts) -> findings, one concern each, run in the order of CHECKS.

Every finding carries its evidence; the catalogue (model/catalogue.py) holds codes, default severities and advice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sigtriage.judge.names import (
    DEFAULT_ALIASES,
    WELL_KNOWN_PUBLISHERS,
    lookalike_of,
    make_aliases,
    normalize_publisher,
    same_publisher,
)
from sigtriage.model import AnalysisReport, Certificate, Finding, Severity, Signature, Status
from sigtriage.model.baseline import Baseline, PinnedPublisher
from sigtriage.model.catalogue import finding
from sigtriage.model.context import ExecutionContext
from sigtriage.model.evidence import IntelMatch, Prevalence, RevocationEvidence, RevocationState

KEY_COMPROMISE = "key_compromise"


@dataclass(frozen=True)
class Facts:
    """Everything a check may look at. Built by the composition root; checks never do I/O."""

    analysis: AnalysisReport
    context: ExecutionContext | None
    baseline: Baseline
    pinned: PinnedPublisher | None
    revocation: RevocationEvidence
    intel: tuple[IntelMatch, ...]
    prevalence: tuple[Prevalence, ...]
    now: datetime

    @property
    def primary(self) -> Signature | None:
        valid = [s for s in self.analysis.signatures if s.status is Status.VALID]
        return self.analysis.primary if self.analysis.primary is not None else (valid[0] if valid else None)

    @property
    def signer(self) -> Certificate | None:
        return self.primary.signer if self.primary is not None else None

    @property
    def aliases(self) -> Mapping[str, str]:
        own = make_aliases({alias: canonical for canonical, names in self.baseline.aliases.items()
                            for alias in [*names, canonical]})
        return MappingProxyType({**DEFAULT_ALIASES, **own})


Check = Callable[[Facts], Iterable[Finding]]


def _signer_name(cert: Certificate) -> str:
    return cert.subject.o or cert.subject.cn or cert.subject.dn


def approved_or_blocked_hash(facts: Facts) -> Iterable[Finding]:
    sha256 = facts.analysis.file.sha256
    if sha256 in facts.baseline.blocked_hashes:
        yield finding("blocked_hash", "the file's SHA-256 is on the baseline's blocklist", evidence={"sha256": sha256})
    elif sha256 in facts.baseline.approved_hashes:
        yield finding("approved_hash", "the file's SHA-256 is approved in the baseline", evidence={"sha256": sha256})


def alert_matches_file(facts: Facts) -> Iterable[Finding]:
    """The file must be the one the alert is about: every hash both sides have must agree."""
    ctx, file = facts.context, facts.analysis.file
    if ctx is None:
        return
    pairs = {"sha256": (ctx.sha256, file.sha256), "sha1": (ctx.sha1, file.sha1), "md5": (ctx.md5, file.md5)}
    compared = {name: (a, b) for name, (a, b) in pairs.items() if a and b}
    wrong = {name: {"alert": a, "file": b} for name, (a, b) in compared.items() if a.lower() != b.lower()}
    if wrong:
        yield finding("alert_file_mismatch", "the alert names a different file than the one analysed ("
                      + ", ".join(sorted(wrong)) + " differ)", evidence=wrong)
    elif not compared:
        yield finding("alert_file_unverified", "the alert carries no hash of the binary, so nothing ties this file "
                      "to it", evidence={"alert_hashes": sorted(n for n, (a, _) in pairs.items() if a)})


def unsigned(facts: Facts) -> Iterable[Finding]:
    if facts.analysis.status is Status.UNSIGNED:
        yield finding("unsigned_binary", "the file carries no signature")
    elif facts.analysis.status is Status.UNSUPPORTED:
        yield finding("unsupported_file", "the file is in no format that carries a signature: "
                      + ("; ".join(facts.analysis.errors) or facts.analysis.file.format),
                      evidence={"errors": list(facts.analysis.errors), "size": facts.analysis.file.size})


def blocked_certificates(facts: Facts) -> Iterable[Finding]:
    for sig in facts.analysis.signatures:
        for cert in sig.embedded_certificates:
            for blocked in facts.baseline.blocked_certificates:
                by_hash = blocked.sha256 is not None and blocked.sha256 == cert.sha256
                by_serial = (blocked.serial is not None and blocked.serial == cert.serial and blocked.issuer is not None
                             and blocked.issuer.casefold() in {(cert.issuer.cn or "").casefold(), cert.issuer.dn.casefold()})
                if by_hash or by_serial:
                    yield finding("blocked_certificate",
                                  f"'{cert.subject.cn or cert.subject.dn}' is blocked in the baseline: {blocked.reason}",
                                  evidence={"certificate": cert.sha256, "matched_by": "sha256" if by_hash else
                                            "issuer+serial", "reason": blocked.reason}, signature=sig.index)


def intel_matches(facts: Facts) -> Iterable[Finding]:
    for match in facts.intel:
        entry = match.entry
        yield finding("intel_match", f"certificate listed by {entry.source}: {entry.reason or 'known abused'}",
                      evidence={"certificate": match.certificate, "matched_by": match.matched_by,
                                "source": entry.source, "reason": entry.reason, "reference": entry.reference})


def pinning(facts: Facts) -> Iterable[Finding]:
    signer = facts.signer
    if facts.pinned is not None:
        yield finding("pinned_publisher", f"signer chains to a pinned certificate of '{facts.pinned.name}'",
                      evidence={"publisher": facts.pinned.name})
        return
    if signer is None or facts.analysis.status is not Status.VALID:
        return
    name = _signer_name(signer)
    claimed = next((p for p in facts.baseline.publishers
                    if any(same_publisher(name, n, facts.aliases) for n in (p.name, *p.names))), None)
    if claimed is not None:
        yield finding("baseline_name_without_pin",
                      f"signer '{name}' carries the name of baseline publisher '{claimed.name}' but does not chain "
                      "to any of its pinned certificates", evidence={"publisher": claimed.name, "signer": signer.sha256})
    else:
        yield finding("unpinned_publisher", f"signer '{name}' is not a pinned publisher of the baseline",
                      evidence={"signer": signer.sha256})


def _signing_time(sig: Signature) -> datetime | None:
    return sig.timestamp.time if sig.timestamp and sig.timestamp.valid else None


def revocation(facts: Facts) -> Iterable[Finding]:
    evidence = facts.revocation
    if evidence.mode == "off":
        yield finding("revocation_not_checked", "revocation checking is off by configuration")
        return
    primary = facts.primary
    signing_time = _signing_time(primary) if primary else None
    unknown = [c for c in evidence.checks if c.state is RevocationState.UNKNOWN]
    for check in evidence.checks:
        if check.state is not RevocationState.REVOKED:
            continue
        effective = (signing_time is None or check.revoked_at is None or check.revoked_at <= signing_time
                     or check.reason == KEY_COMPROMISE)
        detail = {"certificate": check.certificate, "subject": check.subject, "revoked_at":
                  check.revoked_at.isoformat() if check.revoked_at else None, "reason": check.reason,
                  "signing_time": signing_time.isoformat() if signing_time else None, "source": check.source}
        if effective:
            why = ("key compromise" if check.reason == KEY_COMPROMISE else "no trusted timestamp"
                   if signing_time is None else "revoked before the signing time")
            yield finding("revoked_certificate", f"'{check.subject}' is revoked ({why})", evidence=detail)
        else:
            yield finding("revoked_after_signing", f"'{check.subject}' was revoked after the trusted signing time "
                          f"for '{check.reason}'; signatures made before then stay valid", evidence=detail)
    if unknown:
        severity = Severity.LOW if evidence.mode == "soft-fail" else Severity.HIGH
        yield finding("revocation_unknown", f"revocation could not be checked for {len(unknown)} certificate(s): "
                      + "; ".join(f"{c.subject}: {c.error}" for c in unknown),
                      evidence={"mode": evidence.mode, "certificates": [c.certificate for c in unknown],
                                "errors": [c.error for c in unknown]}, severity=severity)


def certificate_age(facts: Facts) -> Iterable[Finding]:
    primary, signer = facts.primary, facts.signer
    if primary is None or signer is None or facts.pinned is not None:
        return
    moment = _signing_time(primary) or (facts.context.event_time if facts.context else None) or facts.now
    days = (moment - signer.not_before).total_seconds() / 86400
    limit = facts.baseline.thresholds.recent_issue_days
    if 0 <= days < limit:
        yield finding("recently_issued", f"signer certificate was issued {days:.1f} days before "
                      f"{'the trusted signing time' if _signing_time(primary) else 'the execution'} "
                      f"(threshold {limit} days)",
                      evidence={"days": round(days, 1), "not_before": signer.not_before.isoformat(),
                                "moment": moment.isoformat(), "threshold_days": limit})


def rarity(facts: Facts) -> Iterable[Finding]:
    signer = facts.signer
    if signer is None or facts.pinned is not None or facts.analysis.status is Status.UNSIGNED:
        return
    seen = next((p for p in facts.prevalence if p.key == f"cert:{signer.sha256}"), None)
    if seen is None:
        return
    limits = facts.baseline.thresholds
    detail = {"certificate": signer.sha256, "sightings": seen.sightings, "hosts": seen.hosts,
              "first_seen": seen.first_seen.isoformat() if seen.first_seen else None}
    if seen.sightings == 0:
        yield finding("first_seen_certificate", "no other host or file in the organisation has been seen with this "
                      "signer certificate", evidence=detail)
    elif seen.sightings <= limits.rare_max_sightings or seen.hosts <= limits.rare_max_hosts:
        yield finding("rare_certificate", f"signer certificate seen {seen.sightings} time(s) on {seen.hosts} host(s)",
                      evidence=detail)


def publisher_metadata(facts: Facts) -> Iterable[Finding]:
    signer = facts.signer
    company = facts.analysis.file.version_info.get("CompanyName") or (facts.context.company_name if facts.context
                                                                      else None)
    if signer is None or not company:
        return
    names = [n for n in (signer.subject.o, signer.subject.cn) if n]
    if not any(same_publisher(company, n, facts.aliases) for n in names):
        yield finding("publisher_mismatch", f"VERSIONINFO CompanyName '{company}' does not match the signer "
                      f"'{_signer_name(signer)}'", evidence={"company_name": company, "signer": names})


def publisher_lookalike(facts: Facts) -> Iterable[Finding]:
    signer = facts.signer
    protected = [*WELL_KNOWN_PUBLISHERS, *(p.name for p in facts.baseline.publishers),
                 *(n for p in facts.baseline.publishers for n in p.names)]
    candidates = {n for n in ((signer.subject.o, signer.subject.cn) if signer else ()) if n}
    company = facts.analysis.file.version_info.get("CompanyName")
    if company:
        candidates.add(company)
    for name in sorted(candidates):
        hit = lookalike_of(name, protected, facts.aliases)
        if hit is not None and facts.pinned is None:
            yield finding("publisher_lookalike", f"'{name}' imitates '{hit.imitates}' ({hit.technique.replace('_', ' ')}"
                          f", distance {hit.distance})",
                          evidence={"name": name, "imitates": hit.imitates, "technique": hit.technique,
                                    "distance": hit.distance, "characters": list(hit.characters)})


def edr_disagreement(facts: Facts) -> Iterable[Finding]:
    claim = facts.context.edr_signature if facts.context else None
    if claim is None or claim.trusted is None:
        return
    ours = facts.analysis.status is Status.VALID
    if claim.trusted != ours:
        yield finding("edr_signature_disagrees", f"the sensor reported the signature as "
                      f"{'trusted' if claim.trusted else 'not trusted'}, sigtriage finds "
                      f"'{facts.analysis.status.value}'", evidence={"edr_status": claim.status,
                                                                    "edr_subject": claim.subject,
                                                                    "status": facts.analysis.status.value})


CHECKS: tuple[Check, ...] = (
    alert_matches_file,
    approved_or_blocked_hash,
    unsigned,
    blocked_certificates,
    intel_matches,
    pinning,
    revocation,
    certificate_age,
    rarity,
    publisher_metadata,
    publisher_lookalike,
    edr_disagreement,
)


def assessment_findings(facts: Facts) -> tuple[Finding, ...]:
    return tuple(f for check in CHECKS for f in check(facts))


def publisher_keys(analysis: AnalysisReport) -> tuple[str, ...]:
    """The prevalence keys of a file's signer: its certificate and its normalised publisher name."""
    signer = analysis.primary.signer if analysis.primary else None
    if signer is None:
        return ()
    return (f"cert:{signer.sha256}", f"publisher:{normalize_publisher(_signer_name(signer))}")
