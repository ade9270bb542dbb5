"""Regenerate what the docs and package derive from code: README's findings table and the JSON Schemas.

    .venv/bin/python docs/regenerate.py
"""

from __future__ import annotations

import json
from pathlib import Path

from sigtriage.model.documents import DOCUMENTS, generated_schema, schema_path
from sigtriage.present.readme import with_findings_table

readme = Path(__file__).resolve().parent.parent / "README.md"
readme.write_text(with_findings_table(readme.read_text()))
for name in DOCUMENTS:
    schema_path(name).write_text(json.dumps(generated_schema(name), indent=2) + "\n")
