"""Raw alert JSON -> ExecutionContext: who ran which binary, where, with which privilege.

One module per format, tried in the order of PARSERS; the first whose detect() accepts the document parses it.
Parsers read fixed paths with typed accessors (fields.py) and share one privilege derivation (privilege.py), so
hostile input (nulls, wrong types, junk) yields a context with notes or an AlertFormatError, nothing else.
Formats and the fields each one reads: docs/alert-formats.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from sigtriage.alerts import (
    elastic_endpoint,
    mde_alert,
    mde_device_process_events,
    plain,
    splunk_es_notable,
    sysmon_ecs,
    windows_security_4688,
)
from sigtriage.alerts.fields import shown
from sigtriage.errors import AlertFormatError, InputError
from sigtriage.model.context import ExecutionContext

MAX_ALERT_BYTES = 16 * 1024 * 1024
"""An alert is a few kilobytes; a larger file is a wrong file, not worth reading into memory."""


class AlertParser(Protocol):
    FORMAT: str

    def detect(self, doc: object) -> bool: ...

    def parse(self, doc: object) -> ExecutionContext: ...


# plain first: its marker key is ours alone; Winlogbeat formats before elastic_endpoint because a Kibana alert
# on a Winlogbeat event also carries kibana.alert.*.
PARSERS: tuple[AlertParser, ...] = (
    plain,
    sysmon_ecs,
    windows_security_4688,
    mde_alert,
    mde_device_process_events,
    elastic_endpoint,
    splunk_es_notable,
)
FORMATS: tuple[str, ...] = tuple(parser.FORMAT for parser in PARSERS)


def normalize(doc: object) -> ExecutionContext:
    """The execution context of one alert: a JSON object, or a JSON array holding exactly one."""
    if isinstance(doc, list):
        if len(doc) != 1:
            raise AlertFormatError(f"expected one alert, got a list of {len(doc)}")
        doc = doc[0]
    for parser in PARSERS:
        if parser.detect(doc):
            return parser.parse(doc)
    raise AlertFormatError(_unknown_format_message(doc))


def load_alert(path: Path) -> ExecutionContext:
    """Read one alert from a JSON or single-line NDJSON file (UTF-8/16/32, with or without BOM)."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_ALERT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read alert: {exc.strerror or exc}", context=str(path)) from exc
    if len(data) > MAX_ALERT_BYTES:
        raise InputError(f"larger than {MAX_ALERT_BYTES} bytes: not an alert", context=str(path))
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        hint = " (several JSON documents? one alert per file)" if exc.msg == "Extra data" else ""
        raise AlertFormatError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}", context=str(path)
        ) from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        # json.loads detects UTF-8/16/32 from the bytes; RecursionError is how it fails on absurd nesting
        raise AlertFormatError(f"not JSON: {type(exc).__name__}", context=str(path)) from exc
    try:
        return normalize(doc)
    except AlertFormatError as exc:
        where = f"{path} ({exc.context})" if exc.context else str(path)
        raise AlertFormatError(exc.message, context=where) from exc


_JSON_KINDS = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _unknown_format_message(doc: object) -> str:
    kind = _JSON_KINDS.get(type(doc), "null" if doc is None else type(doc).__name__)
    if isinstance(doc, dict):
        keys = sorted(str(key) for key in doc)
        kind += f" with keys {', '.join(shown(key) for key in keys[:10])}" + (", ..." if len(keys) > 10 else "")
    optional = [name for name in plain.FIELDS if name not in ("sigtriage_alert", "sha256", "image_path")]
    return (
        f"alert in no known format (a JSON {kind}); known formats: {', '.join(FORMATS)}. "
        'Sources without a parser can write the plain sigtriage format: {"sigtriage_alert": 1} with '
        f"sha256 or image_path (one is required) and optionally {', '.join(optional)}"
    )
