"""Revocation evidence for the signer and intermediates of every signature: OCSP first, then CRLs.

Per certificate, sources are tried in order until one answers GOOD or REVOKED: the OCSP responders of its
AIA, then its CRL distribution points; http(s) URLs first, at most max_urls_per_certificate in all. Both
need the issuer certificate (OCSP to name the certificate, CRLs to verify the signature), so a certificate
whose issuer is not in the chain is UNKNOWN without any request. The result is one RevocationCheck per
certificate: the source that answered, or UNKNOWN with the error of every attempt (prefixed by method and
URL when there was more than one; source and method are then those of the last attempt).

With offline_crl_dir nothing is fetched, OCSP included: CRLs come from the folder, matched by issuer name
and signature. What UNKNOWN means under each mode is for assessment to judge; this module records facts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from sigtriage.errors import ExternalError, UsageError
from sigtriage.gather.answer import Answer, unknown
from sigtriage.gather.crl import crl_answer, crl_problem, load_crl
from sigtriage.gather.crlstore import CrlCache, OfflineCrls
from sigtriage.gather.ocsp import ocsp_answer, ocsp_request
from sigtriage.gather.target import Target, certificates_to_check, load_certificate, quiet_serial_warnings
from sigtriage.model import Certificate, Signature
from sigtriage.model.evidence import RevocationCheck, RevocationEvidence, RevocationState
from sigtriage.net import BlockedURLError, SafeSession

log = logging.getLogger("sigtriage.gather")

MODES = ("off", "soft-fail", "hard-fail", "require")
_OCSP_HEADERS = {"Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"}


@dataclass(frozen=True)
class RevocationConfig:
    mode: str = "soft-fail"
    offline_crl_dir: Path | None = None
    max_urls_per_certificate: int = 3
    max_certificates: int = 16
    """Per call; certificates past it are UNKNOWN, not silently skipped."""
    budget_seconds: float = 120.0
    """No new request starts after this much time in one call (one already running may finish, bounded by
    NetConfig.total_timeout)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"revocation.mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.max_urls_per_certificate < 1 or self.max_certificates < 1 or not self.budget_seconds > 0:
            raise UsageError("revocation: max_urls_per_certificate, max_certificates, budget_seconds must be positive")
        if self.offline_crl_dir is not None:
            object.__setattr__(self, "offline_crl_dir", Path(self.offline_crl_dir))


def check_revocation(
    signatures: tuple[Signature, ...],
    config: RevocationConfig,
    session: SafeSession | None,
    cache: CrlCache | None,
    now: datetime,
) -> RevocationEvidence:
    """Check every non-root certificate of every chain. `now` (timezone-aware) decides CRL/OCSP freshness."""
    if now.tzinfo is None:
        raise UsageError("check_revocation needs a timezone-aware `now`")
    wanted = certificates_to_check(signatures)
    if config.mode == "off":
        return RevocationEvidence("off", tuple(_record(f, Answer(RevocationState.NOT_CHECKED)) for f, _ in wanted))
    source: _FolderSource | _NetworkSource
    if config.offline_crl_dir is not None:
        source = _FolderSource(OfflineCrls(config.offline_crl_dir), now)
    elif session is not None:
        source = _NetworkSource(session, cache, config, now)
    else:
        raise UsageError(f"revocation mode {config.mode!r} needs network access or revocation.offline_crl_dir")
    checks = []
    for index, (facts, issuer) in enumerate(wanted):
        if index >= config.max_certificates:
            limit = unknown(f"not checked: more than {config.max_certificates} certificates to check")
            checks.append(_record(facts, limit))
        else:
            checks.append(_check_one(facts, issuer, source))
    return RevocationEvidence(config.mode, tuple(checks))


def _check_one(
    facts: Certificate, issuer: Certificate | None, source: _FolderSource | _NetworkSource
) -> RevocationCheck:
    with quiet_serial_warnings():
        try:
            target = Target(facts, load_certificate(facts), load_certificate(issuer) if issuer else None)
        except ValueError as exc:
            return _record(facts, unknown(f"certificate cannot be parsed: {exc}"))
        if target.issuer is None:
            return _record(facts, unknown("issuer certificate is not in the chain: cannot ask OCSP or verify a CRL"))
        return source.check(target, target.issuer)


class _NetworkSource:
    def __init__(self, session: SafeSession, cache: CrlCache | None, config: RevocationConfig, now: datetime) -> None:
        self._session = session
        self._cache = cache
        self._max_urls = config.max_urls_per_certificate
        self._deadline = time.monotonic() + config.budget_seconds
        self._now = now

    def check(self, target: Target, issuer: x509.Certificate) -> RevocationCheck:
        attempts = _sources(target.facts)[: self._max_urls]
        if not attempts:
            return _record(target.facts, unknown("certificate names no OCSP responder and no CRL distribution point"))
        failures: list[tuple[str, str, str]] = []
        for method, url in attempts:
            if time.monotonic() > self._deadline:
                failures.append((method, url, "not tried: revocation time budget exhausted"))
                break
            answer = self._ocsp(url, target, issuer) if method == "ocsp" else self._crl(url, target, issuer)
            if answer.definitive:
                return _record(target.facts, answer, method, url)
            log.info("%s %s for %s: %s", method, url, target.facts.subject.dn, answer.error)
            failures.append((method, url, answer.error or "no answer"))
        method, url, error = failures[-1]
        if len(failures) > 1:
            error = "; ".join(f"{m} {u}: {e}" for m, u, e in failures)
        return _record(target.facts, unknown(error), method, url)

    def _ocsp(self, url: str, target: Target, issuer: x509.Certificate) -> Answer:
        try:
            request = ocsp_request(target.cert, issuer)
        except ValueError as exc:
            return unknown(f"cannot build an OCSP request: {exc}")
        try:
            response = self._session.post(url, request, headers=_OCSP_HEADERS)
        except ExternalError as exc:
            return unknown(_describe(exc))
        return ocsp_answer(response.content, target.cert, issuer, self._now)

    def _crl(self, url: str, target: Target, issuer: x509.Certificate) -> Answer:
        cached = self._cache.get(url, self._now) if self._cache else None
        if cached is not None:
            answer = crl_answer(cached, target, issuer, self._now)
            if answer.definitive:
                return answer
            # a cached CRL that no longer verifies or fits (tampered, reissued CA): fetch afresh
        try:
            data = self._session.get(url).content
            crl = load_crl(data)
        except ExternalError as exc:
            return unknown(_describe(exc))
        except ValueError as exc:
            return unknown(f"unparseable CRL: {exc}")
        answer = crl_answer(crl, target, issuer, self._now)
        if answer.definitive and self._cache is not None:
            self._cache.put(url, data)
        return answer


class _FolderSource:
    def __init__(self, crls: OfflineCrls, now: datetime) -> None:
        self._crls = crls
        self._now = now

    def check(self, target: Target, issuer: x509.Certificate) -> RevocationCheck:
        candidates = self._crls.for_issuer(target.cert.issuer)
        usable = [(path, crl) for path, crl in candidates if crl_problem(crl, target, issuer) is None]
        if not usable:
            folder = str(self._crls.directory)
            why = f"no CRL issued by '{target.cert.issuer.rfc4514_string()}' in {folder}"
            if candidates:
                why = f"{why} passes checks ({candidates[0][0].name}: {crl_problem(candidates[0][1], target, issuer)})"
            return _record(target.facts, unknown(why), "offline-crl", folder)
        path, crl = max(usable, key=lambda found: found[1].last_update_utc)  # the newest CRL speaks
        return _record(target.facts, crl_answer(crl, target, issuer, self._now), "offline-crl", str(path))


def _sources(facts: Certificate) -> list[tuple[str, str]]:
    """OCSP before CRL (smaller, fresher); within each, http(s) first: ldap:// (AD CS) is always blocked."""

    def web_first(urls: tuple[str, ...]) -> list[str]:
        return sorted(dict.fromkeys(urls), key=lambda u: not u.lower().startswith(("http://", "https://")))

    return [("ocsp", u) for u in web_first(facts.ocsp_urls)] + [("crl", u) for u in web_first(facts.crl_urls)]


def _describe(exc: ExternalError) -> str:
    return f"blocked: {exc.message}" if isinstance(exc, BlockedURLError) else exc.message


def _record(
    facts: Certificate, answer: Answer, method: str | None = None, source: str | None = None
) -> RevocationCheck:
    return RevocationCheck(
        certificate=facts.sha256,
        subject=facts.subject.dn,
        state=answer.state,
        method=method,
        source=source,
        revoked_at=answer.revoked_at,
        reason=answer.reason,
        error=answer.error,
    )
