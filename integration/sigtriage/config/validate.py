"""YAML/JSON documents checked against a packaged JSON Schema, with errors an operator can act on."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sigtriage.errors import InputError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@cache
def schema(name: str) -> dict[str, Any]:
    """Packaged schemas are immutable data, read once."""
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    return loaded


def _where(error: jsonschema.ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "(top level)"


def validate(document: Any, schema_name: str, *, source: str) -> None:
    validator = jsonschema.Draft202012Validator(schema(schema_name))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{_where(e)}: {e.message}" for e in errors[:10]]
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise InputError(f"does not match the {schema_name} schema:\n  " + "\n  ".join(lines) + more, context=source)


def _yaml_hint(document: Any, errors: str) -> str:
    """YAML 1.1 reads unquoted on/off/yes/no as booleans: say so when a boolean stands where text belongs."""
    return errors + ("\n  (hint: YAML reads unquoted off/on/yes/no as true/false; quote them, e.g. mode: \"off\")"
                     if "False is not one of" in errors or "True is not one of" in errors else "")


def load_yaml(path: Path, schema_name: str, *, empty: Any = None) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", context=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", context=str(path)) from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", context=str(path)) from exc
    if document is None and empty is not None:
        document = empty  # an empty file means "all defaults" where the schema allows that
    try:
        validate(document, schema_name, source=str(path))
    except InputError as exc:
        raise InputError(_yaml_hint(document, exc.message), context=exc.context) from None
    return document
