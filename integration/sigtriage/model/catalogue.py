"""Every finding code sigtriage can emit: default severity, what it means, what an analyst should do.

Checks must only emit codes listed here (a completeness test enforces it both ways), and README's findings
table is generated from this module (`sigtriage findings --markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sigtriage.model.analysis import Finding, Severity


@dataclass(frozen=True)
class FindingKind:
    code: str
    severity: Severity
    description: str
    recommendation: str
    layer: str
    """'analysis' (facts of the file alone) or 'assessment' (judged against baseline, intel, context)."""


_KINDS = (
    FindingKind("weak_digest", Severity.LOW, "The file is protected only by MD5 or SHA-1 Authenticode digests.",
                "Collision attacks on these digests are practical; prefer a SHA-256 signed build.", "analysis"),
    FindingKind("weak_key", Severity.MEDIUM, "A certificate in the signing chain has an RSA key under 2048 bits.",
                "Short keys can be factored; treat the signature as weak evidence.", "analysis"),
    FindingKind("no_timestamp", Severity.LOW, "A signature carries no trusted timestamp.",
                "Without a timestamp the signature stops verifying when the certificate expires, and the "
                "signing time cannot be proven.", "analysis"),
    FindingKind("timestamp_invalid", Severity.MEDIUM, "A signature's countersignature (timestamp) does not verify.",
                "The claimed signing time is not evidence; judge the certificate at the current time.", "analysis"),
    FindingKind("cert_age_at_signing_days", Severity.INFO,
                "Days between the signer certificate's notBefore and the trusted signing time.",
                "Very young certificates are typical of freshly bought or stolen identities.", "analysis"),
    FindingKind("cert_table_slack", Severity.HIGH,
                "Bytes after the PKCS#7 signature inside the certificate table (CVE-2013-3900 padding).",
                "Data can be smuggled into a signed file this way; inspect the slack and the loader.", "analysis"),
    FindingKind("multiple_signers", Severity.INFO, "The file carries signatures by different certificates.",
                "Usual for dual SHA-1/SHA-256 signing by one publisher; check every signer when they differ.",
                "analysis"),
    FindingKind("lifetime_signing", Severity.INFO,
                "The signer certificate has the lifetime-signing EKU: signatures expire with the certificate.",
                "Expect the file to stop verifying after the certificate's notAfter.", "analysis"),
    FindingKind("chain_mismatch", Severity.HIGH,
                "The embedded chain does not link: an embedded certificate carries the issuer's name but did not "
                "sign the certificate below it (forged or wrong intermediate, CVE-2020-0601 pattern).",
                "Treat as a spoofed signature.", "analysis"),
    FindingKind("negative_serial", Severity.LOW, "A certificate has a negative serial number (RFC 5280 violation).",
                "Sloppy issuance; some libraries refuse such certificates.", "analysis"),
    FindingKind("nested_signature_invalid", Severity.MEDIUM,
                "A nested or secondary signature does not verify while the primary does.",
                "Check whether a signature was appended or altered after signing.", "analysis"),
    FindingKind("signature_not_valid", Severity.HIGH, "The file's signature does not verify (see status).",
                "Do not rely on the publisher identity shown for this file.", "analysis"),
    FindingKind("malformed_signature", Severity.HIGH,
                "The file claims a signature (security directory) that does not parse.",
                "A broken or truncated signature is a tampering signal, not 'unsigned'.", "analysis"),
)

CATALOGUE: dict[str, FindingKind] = {kind.code: kind for kind in _KINDS}


def finding(code: str, message: str, *, evidence: dict[str, Any] | None = None, signature: int | None = None,
            severity: Severity | None = None) -> Finding:
    kind = CATALOGUE[code]
    return Finding(code=code, severity=severity or kind.severity, message=message, evidence=evidence or {},
                   signature=signature)
