"""Frozen dataclasses only: no I/O, no third-party types. Imports nothing else of sigtriage."""

from sigtriage.model.analysis import (
    AnalysisFailure,
    AnalysisReport,
    Certificate,
    CertificateRef,
    CertTable,
    FileFacts,
    Finding,
    Name,
    PageHashes,
    PEInfo,
    Severity,
    Signature,
    Status,
    Timestamp,
    WindowsStatus,
)

__all__ = [
    "AnalysisFailure",
    "AnalysisReport",
    "CertTable",
    "Certificate",
    "CertificateRef",
    "FileFacts",
    "Finding",
    "Name",
    "PEInfo",
    "PageHashes",
    "Severity",
    "Signature",
    "Status",
    "Timestamp",
    "WindowsStatus",
]
