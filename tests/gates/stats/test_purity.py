"""The statistics layer is pure: no Django/Celery imports, no file I/O, no clock.

Checked on the source (AST), because importing the `governance` package itself runs its
Celery app module; what matters is that these modules never depend on it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import governance.gates.stats as stats_pkg

STATS_DIR = Path(stats_pkg.__file__).parent
# Every module of the package, sub-packages included ("security/pii").
MODULES = sorted(str(path.relative_to(STATS_DIR).with_suffix("")) for path in STATS_DIR.rglob("*.py"))
FORBIDDEN_IMPORTS = {"django", "celery", "time", "datetime", "os", "io", "pathlib", "random"}
FORBIDDEN_CALLS = {"open", "print", "input"}


@pytest.mark.parametrize("name", MODULES)
def test_module_is_pure(name):
    tree = ast.parse((STATS_DIR / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            roots = set()
        assert not roots & FORBIDDEN_IMPORTS, f"{name}: imports {roots & FORBIDDEN_IMPORTS}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("governance."):
            # from governance only the core vocabulary/errors and this package itself
            assert node.module.startswith(("governance.core", "governance.gates.stats")), f"{name}: {node.module}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, f"{name}: calls {node.func.id}()"


def test_tests_do_not_import_django():
    for path in Path(__file__).parent.glob("test_*.py"):
        if path.name == Path(__file__).name:
            continue
        if path.stem.split("_", 1)[1] not in {m.split("/")[0] for m in MODULES}:
            continue  # other engineers' tests in this folder
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] == "django" for n in names), path.name


def test_package_reexports_gate_functions():
    from governance.gates.stats import (
        cost_gate,
        cost_weighted_gate,
        drift_gate,
        error_rate_gate,
        fairness_gate,
        latency_gate,
        performance_gate,
        threshold_metric_gate,
    )

    assert all(
        callable(f)
        for f in (
            cost_gate,
            cost_weighted_gate,
            drift_gate,
            error_rate_gate,
            fairness_gate,
            latency_gate,
            performance_gate,
            threshold_metric_gate,
        )
    )
    with pytest.raises(AttributeError):
        stats_pkg.no_such_gate  # noqa: B018
