"""The layout of docs/architecture.md, checked: imports run one way, modules stay readable.

The package graph is drawn from the source with grimp (imports inside functions count;
imports under `if TYPE_CHECKING:` do not, they never run). Migrations and management
commands are entry points, left out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. A package may import packages of lower layers only; packages of one layer
# do not import each other. docs/architecture.md explains each one.
LAYERS: list[set[str]] = [
    {"core", "celery"},  # celery: the Celery app module (governance/celery.py)
    {"audit"},
    {"accounts"},
    {"registry"},
    {"policies", "evidence"},
    {"gates", "notifications", "imports"},  # imports: versions from MLflow runs (registry + evidence)
    {"approvals"},
    {"reports"},  # PDFs read requests and decisions; pages and the API serve them
    {"webhooks"},  # tells teams' URLs of request, gate, decision and report events
    {"demo", "api"},
    {"web"},
    {"urls"},  # governance/urls.py: the URL root
]
LAYER_OF = {package: i for i, layer in enumerate(LAYERS) for package in layer}
ENTRY_POINTS = (".migrations", ".management")
MAX_MODULE_LINES = 800


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.fixture(scope="module")
def package_edges() -> dict[tuple[str, str], list[tuple[str, str]]]:
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("governance", cache_dir=None, exclude_type_checking_imports=True)
    edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for module in graph.modules:
        if any(marker in module for marker in ENTRY_POINTS):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if any(marker in imported for marker in ENTRY_POINTS):
                continue
            a, b = _package(module), _package(imported)
            if a and b and a != b:
                edges.setdefault((a, b), []).append((module, imported))
    return edges


def _cycles(edges) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_it_finds_no_import_cycle_between_packages(package_edges):
    cycles = _cycles(package_edges)
    detail = [
        f"{a} -> {b}: {', '.join(f'{m} imports {t}' for m, t in package_edges[(a, b)][:3])}"
        for cycle in cycles
        for a in cycle
        for b in cycle
        if (a, b) in package_edges
    ]
    assert not cycles, "import cycles between packages:\n" + "\n".join(detail)


def test_the_cycle_finder_sees_a_cycle():
    assert _cycles({("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): []}) == [["a", "b", "c"]]
    assert _cycles({("a", "b"): [], ("b", "c"): []}) == []


def test_imports_run_down_the_layers(package_edges):
    unknown = sorted({p for edge in package_edges for p in edge} - set(LAYER_OF))
    assert not unknown, f"packages missing from LAYERS (and docs/architecture.md): {unknown}"
    upward = [
        f"{a} (layer {LAYER_OF[a]}) imports {b} (layer {LAYER_OF[b]}): {package_edges[(a, b)][0]}"
        for a, b in package_edges
        if LAYER_OF[b] >= LAYER_OF[a]
    ]
    assert not upward, "imports against the layers:\n" + "\n".join(sorted(upward))


def test_pure_libraries_import_no_django_app():
    """gates/stats and core are pure: they import governance.core at most."""
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("governance", cache_dir=None, exclude_type_checking_imports=True)
    offending = []
    for module in graph.modules:
        if module.startswith(("governance.gates.stats", "governance.core")):
            for imported in graph.find_modules_directly_imported_by(module):
                if imported.startswith("governance.") and not imported.startswith(
                    ("governance.core", "governance.gates.stats")
                ):
                    offending.append(f"{module} imports {imported}")
    assert not offending


def test_importing_the_policy_schema_loads_no_scipy():
    code = "import sys, governance.policies.loader; print('scipy' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_starting_django_loads_no_scipy_and_the_web_process_no_scipy_stats():
    """A management command (create_token, verify_audit, the worker's first ping) starts
    without the statistics: SciPy loads when a gate is computed. A web process (all URLs
    loaded) takes scipy.special for the declared numbers, not scipy.stats (~1 s)."""
    code = (
        "import os, sys; os.environ['DJANGO_SETTINGS_MODULE'] = 'governance.settings'; import django; "
        "django.setup(); print('scipy' in sys.modules); "
        "from django.urls import get_resolver; get_resolver().url_patterns; print('scipy.stats' in sys.modules)"
    )
    env = {**os.environ, "ENV_FILE": "", "SECRET_KEY": "architecture-test"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["False", "False"]


# Where the length rule applies: the app, the benchmarks, the CLI client, the tests and the
# scripts (a test module is read like any other). Not in migrations (generated), nor in
# setuptools' copies of the client (client/build/, *.egg-info; gitignored).
SITTING_ROOTS = ("governance", "bench", "client", "tests", "scripts")


def _skipped(path: Path) -> bool:
    return any(part in ("migrations", "build") or part.endswith(".egg-info") for part in path.parts)


def _long_modules(root: Path, roots: tuple[str, ...]) -> tuple[list[str], dict[str, int]]:
    """(modules over MAX_MODULE_LINES as "path: N lines", how many modules each root has)."""
    long, seen = [], {}
    for name in roots:
        seen[name] = 0
        for path in sorted((root / name).rglob("*.py")):
            if _skipped(path.relative_to(root)):
                continue
            seen[name] += 1
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_MODULE_LINES:
                long.append(f"{path.relative_to(root)}: {lines} lines")
    return long, seen


def test_no_module_is_longer_than_a_sitting():
    long, seen = _long_modules(ROOT, SITTING_ROOTS)
    assert all(seen.values()), f"no modules found under some of {SITTING_ROOTS}: {seen}"
    assert not long, (
        f"modules over {MAX_MODULE_LINES} lines (split them by concern; migrations are exempt): " + ", ".join(long)
    )


def test_the_length_rule_sees_a_long_module_and_skips_generated_code(tmp_path):
    for rel, lines in {
        "bench/long.py": MAX_MODULE_LINES + 1,
        "bench/ok.py": MAX_MODULE_LINES,
        "client/govern/long.py": MAX_MODULE_LINES + 1,
        "client/build/lib/govern/long.py": MAX_MODULE_LINES + 1,
        "client/govern.egg-info/long.py": MAX_MODULE_LINES + 1,
        "governance/app/migrations/0001_initial.py": MAX_MODULE_LINES + 1,
        "tests/app/test_long.py": MAX_MODULE_LINES + 1,
        "tests/app/test_ok.py": MAX_MODULE_LINES,
        "scripts/long.py": MAX_MODULE_LINES + 1,
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n" * lines, encoding="utf-8")
    long, seen = _long_modules(tmp_path, SITTING_ROOTS)
    assert long == [
        f"bench/long.py: {MAX_MODULE_LINES + 1} lines",
        f"client/govern/long.py: {MAX_MODULE_LINES + 1} lines",
        f"tests/app/test_long.py: {MAX_MODULE_LINES + 1} lines",
        f"scripts/long.py: {MAX_MODULE_LINES + 1} lines",
    ]
    assert seen == {"governance": 0, "bench": 2, "client": 1, "tests": 2, "scripts": 1}
