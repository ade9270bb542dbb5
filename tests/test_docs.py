"""Documentation generated from code stays in step with it."""

from __future__ import annotations

from sigtriage.present.readme import with_findings_table

from conftest import REPO


def test_readme_findings_table_is_current() -> None:
    readme = (REPO / "README.md").read_text()
    assert with_findings_table(readme) == readme, "README findings table is stale: run docs/regenerate.py"
