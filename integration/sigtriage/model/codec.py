"""JSON codec for the frozen model: dataclasses <-> plain JSON, with a schema_version on the way out.

Encoding is generic (any frozen dataclass of the model); decoding is typed by the dataclass field annotations so
that a saved report can be replayed into assessment without the binary.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def _iso(value: datetime) -> str:
    value = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = value.isoformat().replace("+00:00", "Z")
    return text


def to_plain(value: Any) -> Any:
    """Turn a model object into JSON-ready data (dicts, lists, strings, numbers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


def dumps(value: Any, *, indent: int | None = None) -> str:
    return json.dumps(to_plain(value), indent=indent, ensure_ascii=False, sort_keys=False)


def parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def from_plain(cls: type[T], data: Any) -> T:
    """Rebuild a model object of type `cls` from `to_plain` output."""
    return typing.cast(T, _decode(cls, data))


def _decode(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(options[0], data)
    if origin is tuple:
        (item,) = typing.get_args(tp)[:1]
        return tuple(_decode(item, v) for v in data)
    if origin is dict:
        return dict(data)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        kwargs = {f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.name in data}
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(data)
    if tp is datetime:
        return parse_datetime(data)
    return data
