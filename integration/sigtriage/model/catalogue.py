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
    FindingKind("alert_file_mismatch", Severity.HIGH, "The alert's file hash differs from the file analysed.",
                "Fetch the binary the alert is about; no verdict on this alert can come from another file.",
                "assessment"),
    FindingKind("alert_file_unverified", Severity.INFO,
                "The alert carries no hash of the binary (or none sigtriage computed), so nothing ties the file to it.",
                "The verdict describes the file you supplied; a triage never auto-closes such an alert.",
                "assessment"),
    FindingKind("approved_hash", Severity.INFO, "The file's SHA-256 is approved in the baseline.",
                "None: the organisation vouches for this exact file.", "assessment"),
    FindingKind("blocked_hash", Severity.CRITICAL, "The file's SHA-256 is on the baseline's blocklist.",
                "Contain the host and hunt for the file elsewhere.", "assessment"),
    FindingKind("unsigned_binary", Severity.MEDIUM, "The file carries no signature at all.",
                "Unsigned code gives no publisher evidence; judge it by origin and behaviour.", "assessment"),
    FindingKind("unsupported_file", Severity.MEDIUM,
                "The file is in no format that carries a signature (empty, random bytes, unknown type).",
                "Nothing vouches for it; check what the alert really executed.", "assessment"),
    FindingKind("blocked_certificate", Severity.CRITICAL, "A certificate of the file is blocked in the baseline.",
                "Treat as malicious: the organisation distrusts this certificate.", "assessment"),
    FindingKind("intel_match", Severity.CRITICAL,
                "A certificate of the file is listed as leaked or abused by a threat-intel feed "
                "(LOLCerts, MalwareBazaar).", "Treat as malicious; the feed entry gives the reference.",
                "assessment"),
    FindingKind("pinned_publisher", Severity.INFO,
                "The signer chains to a certificate or key pinned for a baseline publisher.",
                "None: this is the strongest positive signal sigtriage has.", "assessment"),
    FindingKind("baseline_name_without_pin", Severity.HIGH,
                "The signer uses the name of a baseline publisher without chaining to its pinned certificates.",
                "A new certificate in a trusted vendor's name is the classic stolen/bought-certificate pattern; "
                "confirm with the vendor before trusting it.", "assessment"),
    FindingKind("unpinned_publisher", Severity.INFO, "The signer is valid but not pinned in the baseline.",
                "Files of unpinned publishers are never auto-closed; add the publisher to the baseline if it "
                "belongs there.", "assessment"),
    FindingKind("revocation_not_checked", Severity.INFO, "Revocation checking is off by configuration.",
                "Policies that need revocation evidence will not auto-close.", "assessment"),
    FindingKind("revoked_certificate", Severity.CRITICAL,
                "A chain certificate is revoked: before the signing time, without a trusted timestamp, or for key "
                "compromise.", "Treat as malicious.", "assessment"),
    FindingKind("revoked_after_signing", Severity.LOW,
                "A chain certificate was revoked after the trusted signing time for a reason other than key "
                "compromise.", "Signatures made before the revocation stay valid; note it.", "assessment"),
    FindingKind("revocation_unknown", Severity.LOW,
                "Revocation could not be checked (no URL, blocked URL, timeout, bad response). High under "
                "hard-fail and require modes.", "Never a silent pass: check the CRL/OCSP by hand if it matters.",
                "assessment"),
    FindingKind("recently_issued", Severity.MEDIUM,
                "The signer certificate was issued shortly before the signing (or execution) time.",
                "Fresh certificates are typical of bought or stolen identities used at once.", "assessment"),
    FindingKind("first_seen_certificate", Severity.LOW, "The organisation has never seen this signer certificate.",
                "New to the estate: check where the file came from.", "assessment"),
    FindingKind("rare_certificate", Severity.LOW, "The signer certificate has been seen on few hosts or few times.",
                "Unusual in the estate: check where the file came from.", "assessment"),
    FindingKind("publisher_mismatch", Severity.MEDIUM,
                "VERSIONINFO CompanyName does not match the signer (after normalising legal suffixes and aliases).",
                "Forged metadata or a re-signed file; compare with the vendor's genuine build.", "assessment"),
    FindingKind("publisher_lookalike", Severity.HIGH,
                "The signer or CompanyName imitates a baseline or well-known publisher (Unicode confusables, "
                "small edit distance).", "Treat as impersonation.", "assessment"),
    FindingKind("edr_signature_disagrees", Severity.MEDIUM,
                "The sensor's own signature verdict differs from sigtriage's.",
                "Check which file the sensor saw, and the sensor's trust store.", "assessment"),
)

CATALOGUE: dict[str, FindingKind] = {kind.code: kind for kind in _KINDS}


def finding(code: str, message: str, *, evidence: dict[str, Any] | None = None, signature: int | None = None,
            severity: Severity | None = None) -> Finding:
    kind = CATALOGUE[code]
    return Finding(code=code, severity=severity or kind.severity, message=message, evidence=evidence or {},
                   signature=signature)
