"""Issue 12 item 16: README and printed commands a new user follows: the venv, Gymnasium ids that exist, the
agent and env lists, the commands of `rlkit --help`, and a TensorBoard command that works as printed."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
from pathlib import Path

import gymnasium as gym
import pytest

from rlkit.core.commands import command
from rlkit.frontend.cli import SUBCOMMANDS, main
from tests.test_extending import FILE_BLOCK

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
GYM_ID = r"\b((?:[a-z0-9]+/)?[A-Z][A-Za-z0-9]*-v\d+)\b"  # CartPole-v1, rlkit/GridMaze-v0


def paragraph(start: str) -> str:
    """The README text from `start` to the next blank line."""
    return README[README.index(start) :].split("\n\n")[0]


def test_readme_says_how_to_reach_the_commands() -> None:
    assert "source .venv/bin/activate" in README and "`.venv/bin/` prefix" in README


def test_gymnasium_ids_in_readme_and_messages_exist() -> None:
    import rlkit.envs  # noqa: F401 (registers rlkit/GridMaze-v0 and the supervised tasks)
    from rlkit.agents.tabular import _discrete_n
    from rlkit.core.errors import IncompatibleError
    from rlkit.core.types import AgentContext

    examples = set(re.findall(GYM_ID, "".join(text for _, text in FILE_BLOCK.findall(README))))
    ids = set(re.findall(GYM_ID, README)) - examples  # the walk-through's own env registers itself
    ctx = AgentContext(gym.spaces.Box(0, 1, (2,)), gym.spaces.Discrete(2), agent_name="q_learning")
    with pytest.raises(IncompatibleError) as err:
        _discrete_n(ctx, ctx.observation_space, "observation")
    ids |= set(re.findall(GYM_ID, str(err.value)))
    assert "Taxi-v4" in ids
    assert sorted(i for i in ids if i not in gym.registry) == []


def test_hydra_paragraph_lists_every_agent_and_env() -> None:
    text = paragraph("Config is [Hydra]")
    for group in ("agent", "env"):
        names = sorted(p.stem for p in (ROOT / "configs" / group).glob("*.yaml"))
        missing = [n for n in names if not re.search(rf"\b{n}\b", text)]
        assert missing == [], f"{group}s missing from the Hydra paragraph: {missing}"


@pytest.mark.parametrize("package", ["agents", "envs"])
def test_layout_section_names_every_module(package: str) -> None:
    block = README[README.index("## How the code is laid out") :].split("```")[1]
    patterns = re.findall(r"[\w*]+\.py", block)
    modules = sorted(p.name for p in (ROOT / package).glob("*.py") if p.name != "__init__.py")
    missing = [m for m in modules if not any(fnmatch.fnmatch(m, pat) for pat in patterns)]
    assert missing == [], f"{package}/ modules missing from the layout section: {missing}"


@pytest.mark.parametrize("layer", ["rlkit/core", "rlkit/frontend"])
def test_layout_section_names_every_module_of_each_layer(layer: str) -> None:
    block = README[README.index("## How the code is laid out") :].split("```")[1]
    line = block[block.index(layer + "/") :].split("\nagents/")[0].split("\nconfigs/")[0]
    names = sorted(p.stem for p in (ROOT / layer).iterdir() if not p.stem.startswith("_"))
    missing = [n for n in names if not re.search(rf"\b{n}\b", line)]
    assert missing == [], f"{layer}/ modules missing from the layout section: {missing}"


def test_readme_commands_are_the_cli_commands() -> None:
    code = "\n".join(README.split("```")[1::2])  # the fenced blocks
    used = set(re.findall(r"^(?:\$ )?rlkit ([\w-]+)", code, flags=re.M))
    used |= set(re.findall(r"`rlkit (\w+)", README))
    assert used - {"--help"} <= set(SUBCOMMANDS), used
    assert set(SUBCOMMANDS) <= used


def test_printed_tensorboard_command_works_without_the_venv_on_path(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", "/bin"]))  # the venv not activated
    assert main(["train", "ui=none", f"hydra.run.dir={tmp_path / 'run'}"]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("TensorBoard:")][0]
    program = shlex.split(line.partition(":")[2])[0]
    found = program if os.sep in program else None
    assert found and os.access(found, os.X_OK) and Path(found).name == "tensorboard", line
    assert os.access(command("rlkit"), os.X_OK)


def test_bare_name_when_the_venv_is_on_path(monkeypatch) -> None:
    import sys

    bindir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", os.pathsep.join([bindir, "/usr/bin", "/bin"]))
    assert command("tensorboard") == "tensorboard"
    assert command("no-such-tool") == "no-such-tool"
