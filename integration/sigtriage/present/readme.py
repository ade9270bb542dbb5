"""README sections generated from code (the findings table), so the documentation cannot drift."""

from __future__ import annotations

import re

from sigtriage.present.catalogue import findings_markdown

START = "<!-- findings-table:start -->"
END = "<!-- findings-table:end -->"


def with_findings_table(readme: str) -> str:
    block = f"{START}\n{findings_markdown()}{END}"
    return re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, readme, flags=re.S)
