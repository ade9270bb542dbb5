"""Typed reads from untrusted alert JSON: each accessor returns a value of the promised type or None, never raises.

Parsers read a handful of fixed paths, so nothing here walks the document: depth and size of hostile input
cost nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import PureWindowsPath

from sigtriage.model.codec import parse_datetime

_ABSENT = ("", "-")  # Windows event logs write "-" where a value does not apply
_SID = re.compile(r"S-1-\d+(-\d+)+", re.IGNORECASE)
_NULL_SID = "S-1-0-0"  # 4688 puts the NULL SID in Target* when the new process runs as its creator
_DIGEST_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32}
_ALGORITHM_BY_LENGTH = {length: name for name, length in _DIGEST_LENGTHS.items()}
_HEX = frozenset("0123456789abcdef")


def dig(node: object, path: str) -> object:
    """The value at a dotted path, through nested objects or dotted keys ('kibana.alert.uuid' stored as one key,
    as Kibana alert documents and flattened SIEM exports do), or None."""
    return _dig(node, path.split("."))


def _dig(node: object, parts: list[str]) -> object:
    if not parts:
        return node
    if not isinstance(node, dict):
        return None
    for cut in range(len(parts), 0, -1):
        key = ".".join(parts[:cut])
        if key in node:
            found = _dig(node[key], parts[cut:])
            if found is not None:
                return found
    return None


def text(value: object) -> str | None:
    """A non-empty string as given (command lines keep their spacing), else None."""
    if isinstance(value, str) and value.strip() not in _ABSENT:
        return value
    return None


def ident(value: object) -> str | None:
    """An identifier that vendors emit as a string or an integer (record ids, event ids)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value)


def flag(value: object) -> bool | None:
    """A boolean, or the strings 'true'/'false' (Sysmon writes Signed as a string)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def sid(value: object) -> str | None:
    """A Windows SID in canonical upper-case 'S-1-…' form; the NULL SID counts as absent."""
    raw = text(value)
    if raw is None or not _SID.fullmatch(raw.strip()):
        return None
    canonical = "S" + raw.strip()[1:]
    return None if canonical == _NULL_SID else canonical


def account(domain: object, name: object) -> str | None:
    """'DOMAIN\\name' as Windows shows an account, or the bare name when no domain is given."""
    user, dom = text(name), text(domain)
    if user is None:
        return None
    return f"{dom}\\{user}" if dom else user


def timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text or epoch seconds (number or numeric string); naive times are UTC
    (Sysmon's UtcTime has no offset). None when absent or unparseable."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, timezone.utc)
        raw = text(value)
        if raw is None:
            return None
        try:
            return datetime.fromtimestamp(float(raw), timezone.utc)
        except ValueError:
            return parse_datetime(raw.strip()).astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def digest(value: object, algorithm: str) -> str | None:
    """A hex digest of the algorithm's length, lower-cased; None for anything else."""
    raw = text(value)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    return lowered if len(lowered) == _DIGEST_LENGTHS[algorithm] and set(lowered) <= _HEX else None


def hash_list(value: object) -> dict[str, str]:
    """Raw digests by algorithm from Sysmon's 'SHA1=…,MD5=…,SHA256=…,IMPHASH=…' or bare digests told apart by
    length (Splunk's process_hash / file_hash); unknown algorithms such as IMPHASH are dropped."""
    raw = text(value)
    found: dict[str, str] = {}
    for item in (raw or "").split(","):
        name, sep, hexdigest = item.strip().rpartition("=")
        algorithm = name.strip().lower() if sep else _ALGORITHM_BY_LENGTH.get(len(hexdigest.strip()), "")
        if algorithm in _DIGEST_LENGTHS and hexdigest:
            found.setdefault(algorithm, hexdigest.strip())
    return found


def windows_path(folder: object, name: object) -> str | None:
    """A path from a folder and a file name: vendors differ on whether the folder already ends in the name, and
    the name alone is still worth having when the folder is missing."""
    directory, filename = text(folder), text(name)
    if directory is None or filename is None:
        return directory or filename
    if basename(directory) == filename.lower():
        return directory
    return directory.rstrip("\\/") + "\\" + filename


def basename(path: str) -> str:
    """The lower-cased file name of a Windows path."""
    return PureWindowsPath(path).name.lower()


def shown(value: object) -> str:
    """A short rendering of a rejected value for a note or an error message (hostile input can be huge)."""
    rendered = repr(value)
    return rendered if len(rendered) <= 80 else rendered[:77] + "..."
