"""Read a playbook file: YAML validated against schemas/playbook.schema.json, then parsed (decide/playbook.py)."""

from __future__ import annotations

from pathlib import Path

from sigtriage.config.validate import load_yaml
from sigtriage.decide.playbook import Playbook, parse_playbook

DEFAULT_PLAYBOOK = Path(__file__).resolve().parent.parent / "data" / "code_signing_triage.yml"
"""A symbolic link to playbooks/code_signing_triage.yml, so the one playbook is both data in the repository and
packaged with the wheel (setuptools copies a link's target)."""


def load_playbook(path: Path | None = None) -> Playbook:
    """The given playbook, else the shipped playbooks/code_signing_triage.yml."""
    path = path or DEFAULT_PLAYBOOK
    return parse_playbook(load_yaml(path, "playbook"), str(path))
