"""docs/cli.md documents every command and option of the parser; docs/ci.md's jobs are valid YAML."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from govern.cli import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_cli_md_names_every_command_and_option():
    text = (DOCS / "cli.md").read_text()
    for name, sub in _subparsers().items():
        assert f"`govern {name}" in text, name
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in text, f"{name} {option}"


def test_ci_md_jobs_parse_and_fail_on_gates():
    text = (DOCS / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    github, gitlab = (yaml.safe_load(block) for block in blocks)
    steps = github["jobs"]["govern"]["steps"]
    assert any("govern promote" in step.get("run", "") and "--wait" in step["run"] for step in steps)
    assert any("govern promote" in line and "--wait" in line for line in gitlab["govern"]["script"])
