"""One exception root for everything sigtriage raises on purpose.

    SigtriageError                 (retryable=False unless a leaf says otherwise)
    ├── UsageError                 bad arguments or configuration            -> exit 2
    ├── InputError                 a file or alert we cannot read            -> exit 3
    │   └── AlertFormatError       alert JSON in no known format
    ├── AnalysisError              the analysis engine itself failed on a file (a bug or a library fault)
    └── ExternalError              a remote service failed (retryable where a retry may help)

Each error carries `context` (what was being processed) so a message can be shown to an analyst as is.
The CLI maps these to exit codes in exactly one place (cli.py); anything else is a bug and is reported
as such, never turned into a benign result.
"""

from __future__ import annotations


class SigtriageError(Exception):
    exit_code = 1
    retryable = False

    def __init__(self, message: str, *, context: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return f"{self.context}: {self.message}" if self.context else self.message


class UsageError(SigtriageError):
    exit_code = 2


class InputError(SigtriageError):
    exit_code = 3


class AlertFormatError(InputError):
    pass


class AnalysisError(SigtriageError):
    exit_code = 4


class ExternalError(SigtriageError):
    exit_code = 5

    def __init__(self, message: str, *, context: str | None = None, retryable: bool = False) -> None:
        super().__init__(message, context=context)
        self.retryable = retryable
