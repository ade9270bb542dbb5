"""Is the signer one of the baseline's pinned publishers? Identity by certificate or key, never by name."""

from __future__ import annotations

from sigtriage.model import AnalysisReport, Signature, Status
from sigtriage.model.baseline import Baseline, PinnedPublisher


def _matches(sig: Signature, publisher: PinnedPublisher) -> bool:
    # the leaf and issuing CAs, not the root: pinning a root would approve everyone it ever certified
    certs = sig.chain[:-1] or sig.chain[:1]
    thumbprints = {c.sha256 for c in certs}
    keys = {c.spki_sha256 for c in certs}
    if not (thumbprints & set(publisher.certificates) or keys & set(publisher.spki)):
        return False
    return not publisher.roots or (sig.trusted_root is not None and sig.trusted_root.sha256 in publisher.roots)


def pinned_publisher(report: AnalysisReport, baseline: Baseline) -> PinnedPublisher | None:
    """The publisher whose pin a valid signature of the file matches.

    Only a *valid* signature can be pinned: a chain that does not verify proves nothing about who signed. Every
    valid signature covers the same file digest, so a dual-signed file whose nested SHA-256 signature chains to a
    pinned CA is that publisher's, even when its legacy SHA-1 primary chains elsewhere.
    """
    if report.status is not Status.VALID:
        return None
    for sig in (s for s in report.signatures if s.status is Status.VALID):
        for publisher in baseline.publishers:
            if _matches(sig, publisher):
                return publisher
    return None
