"""The layers point one way: litsynth (domain) < assets (+ what they need) < orchestration.

Read from the source with ``ast``: a module-level or local import of an upper layer from a
lower one, or a domain module that builds its own Settings, fails here with the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import REPO_ROOT

LAYERS = {"litsynth": 0, "assets": 1, "orchestration": 2}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _modules(package: str) -> list[Path]:
    return sorted((REPO_ROOT / package).rglob("*.py"))


def test_no_layer_imports_one_above_it():
    wrong = []
    for package, level in LAYERS.items():
        for path in _modules(package):
            for line, module in _imports(path):
                top = module.split(".")[0]
                if top == "dagster" and package == "litsynth":
                    wrong.append(f"{path.relative_to(REPO_ROOT)}:{line}: the domain package imports dagster")
                elif LAYERS.get(top, -1) > level:
                    wrong.append(f"{path.relative_to(REPO_ROOT)}:{line}: {package} imports {module}, a layer above it")
    assert not wrong, "\n".join(wrong)


def test_only_the_configuration_module_builds_settings():
    """Domain code is handed its Settings (the project resource's, or the CLI's); it never reads its own."""
    builders = []
    for path in _modules("litsynth"):
        if path.name == "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "Settings" else (
                    func.id if isinstance(func, ast.Name) else None)
                if name in ("Settings", "load") and (isinstance(func, ast.Name) or func.value.id == "Settings"):
                    builders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert not builders, f"build Settings in the caller and pass them down: {builders}"
