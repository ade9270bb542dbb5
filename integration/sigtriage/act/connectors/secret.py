"""Credentials held by connectors (API keys, client secrets, HMAC keys, access tokens).

A `Secret` prints as `***` everywhere (repr, str, f-strings, dataclass reprs, tracebacks' locals), so a config
object can be logged or shown in an error without leaking it; the value is read only through `reveal()`, at the
single place a header or a signature is built. `scrub` removes secret values from text that leaves a connector
(ActionResult details, log lines), in case a vendor echoes one back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
"""What a credential sent in an HTTP header may contain: requests refuses anything else with an error message
quoting the whole header value, which would put the credential in an exception."""
MIN_LENGTH = 8
"""Shorter values are not real credentials; and scrubbing a very short value out of text would mangle it."""


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if len(value) < MIN_LENGTH:
            raise ValueError(f"a secret must have at least {MIN_LENGTH} characters")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        # pickling (multiprocessing, caches) would otherwise write the value to wherever the pickle goes
        raise TypeError("secrets are not picklable")


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of a secret value replaced by ***."""
    for value in secrets:
        if value:
            text = text.replace(value, "***")
    return text
