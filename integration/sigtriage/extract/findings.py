"""Certificate-level facts worth an analyst's attention, from the report alone (pure functions).

Each check is a small function (file, signatures) -> findings; CHECKS is the explicit list, run in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sigtriage.model import Finding, FileFacts, Severity, Signature, Status
from sigtriage.model.catalogue import finding

WEAK_DIGESTS = {"md5", "sha1"}
MIN_RSA_BITS = 2048
LIFETIME_SIGNING_OID = "microsoft_lifetime_signing"

Check = Callable[[FileFacts, tuple[Signature, ...]], Iterable[Finding]]


def weak_digest(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    used = {s.digest_algorithm for s in sigs}
    if used and used <= WEAK_DIGESTS:
        severity = Severity.MEDIUM if "md5" in used else Severity.LOW
        yield finding("weak_digest", f"only {', '.join(sorted(used))} digests protect this file",
                      evidence={"digest_algorithms": sorted(used)}, severity=severity)


def weak_key(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    weak = {cert.sha256: cert for sig in sigs for cert in sig.chain
            if cert.key_algorithm == "rsa" and cert.key_size and cert.key_size < MIN_RSA_BITS}
    if weak:
        smallest = min(c.key_size or 0 for c in weak.values())
        yield finding("weak_key", f"{len(weak)} chain certificate(s) with RSA keys under {MIN_RSA_BITS} bits: "
                      + ", ".join(f"'{c.subject.cn or c.subject.dn}' ({c.key_size})" for c in weak.values()),
                      evidence={"key_size": smallest, "certificates": [
                          {"sha256": c.sha256, "subject": c.subject.dn, "key_size": c.key_size} for c in weak.values()]})


def timestamps(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    for sig in sigs:
        ts = sig.timestamp
        if ts is None:
            yield finding("no_timestamp", f"signature #{sig.index} has no timestamp", signature=sig.index)
        elif not ts.valid:
            yield finding("timestamp_invalid", f"timestamp of signature #{sig.index} does not verify: {ts.error}",
                          evidence={"error": ts.error}, signature=sig.index)
        elif ts.time and sig.signer:
            days = (ts.time - sig.signer.not_before).days
            yield finding("cert_age_at_signing_days",
                          f"signer certificate was {days} days old when signature #{sig.index} was timestamped",
                          evidence={"days": days, "not_before": sig.signer.not_before.isoformat(),
                                    "signing_time": ts.time.isoformat()}, signature=sig.index)


def cert_table_slack(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    table = file.cert_table
    if table and table.slack_bytes:
        yield finding("cert_table_slack", f"{table.slack_bytes} bytes after the signature inside the certificate table",
                      evidence={"slack_bytes": table.slack_bytes, "table_offset": table.offset, "table_size": table.size})


def multiple_signers(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    signers = {s.signer.sha256: s.signer for s in sigs if s.signer}
    if len(signers) > 1:
        orgs = sorted({c.subject.o or c.subject.cn or c.subject.dn for c in signers.values()})
        yield finding("multiple_signers", f"{len(signers)} different signer certificates ({'; '.join(orgs)})",
                      evidence={"signers": sorted(signers), "organisations": orgs},
                      severity=Severity.MEDIUM if len(orgs) > 1 else Severity.INFO)


def lifetime_signing(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    for sig in sigs:
        if sig.signer and LIFETIME_SIGNING_OID in sig.signer.ekus:
            yield finding("lifetime_signing", f"signer of #{sig.index} uses lifetime signing; valid until "
                          f"{sig.signer.not_after.isoformat()}", evidence={"not_after": sig.signer.not_after.isoformat()},
                          signature=sig.index)


def chain_mismatch(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    for sig in sigs:
        if sig.status is Status.CHAIN_INVALID:
            yield finding("chain_mismatch", f"the chain of signature #{sig.index} does not link: "
                          + "; ".join(sig.errors), evidence={"errors": list(sig.errors)}, signature=sig.index)


def negative_serial(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    seen: set[str] = set()
    for sig in sigs:
        for cert in sig.embedded_certificates:
            if cert.serial_int_hex.startswith("-") and cert.sha256 not in seen:
                seen.add(cert.sha256)
                yield finding("negative_serial", f"'{cert.subject.cn or cert.subject.dn}' has a negative serial",
                              evidence={"certificate": cert.sha256, "serial": cert.serial_int_hex}, signature=sig.index)


def secondary_invalid(file: FileFacts, sigs: tuple[Signature, ...]) -> Iterable[Finding]:
    if not sigs or sigs[0].status is not Status.VALID:
        return
    for sig in sigs[1:]:
        if sig.status is not Status.VALID:
            yield finding("nested_signature_invalid", f"signature #{sig.index} is {sig.status.value}",
                          evidence={"status": sig.status.value, "errors": list(sig.errors)}, signature=sig.index)


CHECKS: tuple[Check, ...] = (
    weak_digest,
    weak_key,
    timestamps,
    cert_table_slack,
    multiple_signers,
    lifetime_signing,
    chain_mismatch,
    negative_serial,
    secondary_invalid,
)


def analysis_findings(file: FileFacts, sigs: tuple[Signature, ...], status: Status, errors: tuple[str, ...]) -> tuple[Finding, ...]:
    found = [f for check in CHECKS for f in check(file, sigs)]
    if status is Status.MALFORMED:
        found.append(finding("malformed_signature", "; ".join(errors) or "the signature does not parse",
                             evidence={"errors": list(errors)}))
    elif status not in (Status.VALID, Status.UNSIGNED, Status.UNSUPPORTED, Status.ERROR):
        found.append(finding("signature_not_valid", f"signature status is {status.value}",
                             evidence={"status": status.value},
                             severity=Severity.CRITICAL if status is Status.DIGEST_MISMATCH else None))
    return tuple(found)
