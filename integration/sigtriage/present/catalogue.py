"""The findings catalogue rendered for people: README's table and the terminal."""

from __future__ import annotations

from rich.table import Table

from sigtriage.model.catalogue import CATALOGUE


def findings_markdown() -> str:
    lines = ["| code | layer | default severity | meaning | what to do |", "| --- | --- | --- | --- | --- |"]
    for kind in CATALOGUE.values():
        lines.append(f"| `{kind.code}` | {kind.layer} | {kind.severity.value} | {kind.description} | "
                     f"{kind.recommendation} |")
    return "\n".join(lines) + "\n"


def findings_table() -> Table:
    table = Table("code", "layer", "severity", "meaning")
    for kind in CATALOGUE.values():
        table.add_row(kind.code, kind.layer, kind.severity.value, kind.description)
    return table
