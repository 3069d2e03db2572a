"""The benchmarks and the screenshot script name only product code (and sibling bench
modules' names) that exist.

They run by hand, not in the suite (they take minutes), so a rename in governance/ could
leave one broken unseen until someone needs its numbers (bench_permissions once was).
This reads every `from governance... import name` and `import governance...` in them,
wherever it stands (most import inside main(), after Django is set up), and resolves it;
`from scratch_db import name` and the like are looked up in the sibling file.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "bench").glob("*.py")) + [ROOT / "docs" / "screenshots.py"]


def product_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name or None) for each import of product code in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("governance"):
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names if a.name.startswith("governance")]
    return found


def top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text("utf-8"), str(path)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def sibling_problems(path: Path) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (path.parent / f"{node.module}.py").exists():
            defined = top_level_names(path.parent / f"{node.module}.py")
            problems += [
                f"{path.name}:{node.lineno}: {node.module} has no {a.name}" for a in node.names if a.name not in defined
            ]
    return problems


def unresolved(path: Path) -> list[str]:
    problems = sibling_problems(path)
    for line, module, name in product_imports(path):
        try:
            imported = importlib.import_module(module)
        except ImportError as exc:
            problems.append(f"{path.name}:{line}: {module}: {exc}")
            continue
        if name is not None and not hasattr(imported, name):
            try:  # a submodule: `from governance.gates import tasks`
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                problems.append(f"{path.name}:{line}: {module} has no {name}")
    return problems


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_product_name_a_script_imports_exists(path):
    assert not unresolved(path)


def test_the_check_sees_imports_inside_functions_and_reports_a_missing_name(tmp_path):
    script = tmp_path / "bench_gone.py"
    script.write_text(
        "def main():\n"
        "    from governance.accounts.permissions import roles_for_model, no_such_helper\n"
        "    import governance.no_such_module\n"
    )
    assert [(line, module, name) for line, module, name in product_imports(script)] == [
        (2, "governance.accounts.permissions", "roles_for_model"),
        (2, "governance.accounts.permissions", "no_such_helper"),
        (3, "governance.no_such_module", None),
    ]
    problems = unresolved(script)
    assert len(problems) == 2
    assert "bench_gone.py:2: governance.accounts.permissions has no no_such_helper" in problems
    assert problems[1].startswith("bench_gone.py:3: governance.no_such_module:")
    (tmp_path / "helpers.py").write_text("import os\nLIMIT = 3\ndef setup():\n    pass\n")
    script.write_text("from helpers import LIMIT, setup, os, teardown\n")
    assert unresolved(script) == ["bench_gone.py:1: helpers has no teardown"]
    assert len(SCRIPTS) >= 9 and all(p.exists() for p in SCRIPTS)
