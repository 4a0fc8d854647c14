"""The layer rule (README "How the code is laid out"): imports run one way, front end -> agents / envs ->
core.

Every rlkit import in rlkit/, agents/ and envs/ is read with ast (inside functions too) and checked against
the layer of the module that makes it: rlkit.core imports only rlkit.core; rlkit.agents the core and itself;
rlkit.envs the core and itself; rlkit.frontend anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"rlkit": ROOT / "rlkit", "rlkit.agents": ROOT / "agents", "rlkit.envs": ROOT / "envs"}
ALLOWED = {  # layer -> the layers it may import
    "rlkit.core": ("rlkit.core",),
    "rlkit.agents": ("rlkit.core", "rlkit.agents"),
    "rlkit.envs": ("rlkit.core", "rlkit.envs"),
    "rlkit.frontend": ("rlkit.core", "rlkit.agents", "rlkit.envs", "rlkit.frontend", "rlkit.configs"),
}


def module_name(path: Path) -> str:
    """rlkit/core/runner.py -> rlkit.core.runner; agents/dqn.py -> rlkit.agents.dqn."""
    for package, folder in PACKAGES.items():
        if path.is_relative_to(folder):
            parts = path.relative_to(folder).with_suffix("").parts
            return ".".join((package, *parts)).removesuffix(".__init__")
    raise AssertionError(path)


def layer_of(module: str) -> str | None:
    """The layer a dotted rlkit module belongs to (None for the `rlkit` package itself)."""
    return next((layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")), None)


def rlkit_imports(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import of an rlkit module in `source`, relative ones resolved."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("rlkit")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x / from .y import z
                base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
            if base == "rlkit" or base.startswith("rlkit."):
                # `from rlkit.core import vector` imports rlkit.core.vector: judge by the full name
                out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return out


def violations(path: Path, source: str) -> list[str]:
    """Imports in `source` (the text of `path`) that run against the layers."""
    module = module_name(path)
    layer = layer_of(module)
    if layer is None:
        return []
    bad = []
    for line, imported in rlkit_imports(source, module):
        target = layer_of(imported) or imported
        if not any(target == ok or target.startswith(ok + ".") for ok in ALLOWED[layer]):
            bad.append(f"{path.relative_to(ROOT)}:{line}: {module} ({layer}) imports {imported}")
    return bad


def source_files() -> list[Path]:
    return sorted(p for folder in PACKAGES.values() for p in folder.rglob("*.py"))


def test_every_import_runs_down_the_layers() -> None:
    files = source_files()
    assert len(files) > 60 and any("core" in p.parts for p in files)
    bad = [v for p in files for v in violations(p, p.read_text(encoding="utf-8"))]
    assert bad == [], "imports against the layer rule:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("where", "line"),
    [
        ("rlkit/core/runner.py", "from rlkit.frontend.ui import make_ui"),
        ("rlkit/core/evaluation.py", "import rlkit.agents.dqn"),
        ("agents/dqn.py", "from rlkit.envs.atari import make_atari"),
        ("envs/maze.py", "from rlkit.agents.tabular import TabularAgent"),
        ("envs/maze.py", "from rlkit.frontend import compose"),
        ("rlkit/core/vector.py", "def f():\n    from rlkit.envs import factory"),  # inside a function too
        ("agents/tabular.py", "from ..frontend.cli import main"),  # relative
    ],
)
def test_an_inverted_import_is_caught(where: str, line: str) -> None:
    assert violations(ROOT / where, line + "\n"), f"{line!r} in {where} should break the rule"


def test_imports_that_follow_the_rule_pass() -> None:
    assert (
        violations(
            ROOT / "agents/dqn.py", "from rlkit.core.replay.buffers import x\nimport rlkit.agents.networks"
        )
        == []
    )
    assert (
        violations(
            ROOT / "rlkit/frontend/app.py", "from rlkit.agents import dqn\nfrom rlkit.envs import factory"
        )
        == []
    )
