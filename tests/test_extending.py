"""README's "Adding an agent" / "Adding an env": one .py and one YAML each, taken from the README, trained
through `rlkit train` with the YAML folder on Hydra's search path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rlkit.core.config import EvalConfig, RunConfig
from rlkit.core.loggers import MultiLogger
from rlkit.core.runner import Runner
from rlkit.core.vector import SerialVectorEnv
from rlkit.frontend.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
FILE_BLOCK = re.compile(r"```\w+ file=(\S+)\n(.*?)```", re.S)


def readme_files() -> dict[str, str]:
    """The README's code blocks marked `file=<path>`: path -> text."""
    return dict(FILE_BLOCK.findall(README.read_text(encoding="utf-8")))


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A folder holding the README's agent and env files, importable, as a user's project would be."""
    files = readme_files()
    assert set(files) == {
        "my_agents/constant.py", "my_configs/agent/constant.yaml", "my_envs/corridor.py",
        "my_configs/env/corridor.yaml",
    }  # fmt: skip
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_an_agent_and_an_env_added_with_one_file_and_one_yaml_each_train(project: Path, capsys) -> None:
    searchpath = f"hydra.searchpath=[file://{project / 'my_configs'}]"
    run = project / "run"
    code = main(["train", searchpath, "agent=constant", "env=corridor", f"hydra.run.dir={run}", "ui=none"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["agent"] == "constant" and summary["env"] == "corridor" and summary["steps"] == 500
    assert summary["final_eval"]["return_mean"] == 1.0  # action 1 walks to the end of the corridor
    assert summary["final_eval"]["length_mean"] == 4.0
    # the run remembers its config folder: eval and play find the agent and the env again
    assert main(["eval", f"run={run}", "episodes=2", "ui=none"]) == 0, capsys.readouterr().err
    assert json.loads((run / "eval.json").read_text())["return_mean"] == 1.0
    # the agent's typed config: a wrong type or an unknown key fails at compose time, in one line
    for bad, words in (("agent.action=abc", "agent.action"), ("agent.speed=2", "unknown key 'agent.speed'")):
        assert main(["train", searchpath, "agent=constant", "env=corridor", bad]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1


def test_a_runner_runs_without_hydra() -> None:
    """The core alone: a Runner with a stub agent on CartPole-v1, no config composition, no front end."""
    import gymnasium as gym
    import numpy as np

    class Stub:
        def __init__(self):
            self.seen = 0

        def act(self, obs, explore=True):
            return np.zeros(len(obs), dtype=np.int64)

        def observe(self, transition):
            self.seen += len(transition.reward)

        def update(self):
            return {}

        def state_dict(self):
            return {"seen": self.seen}

        def load_state_dict(self, state):
            self.seen = state["seen"]

    class Memory:
        def __init__(self):
            self.rows = []

        def log(self, metrics, step):
            self.rows.append((step, dict(metrics)))

        def flush(self):
            pass

        def close(self):
            pass

    agent, memory = Stub(), Memory()
    envs = SerialVectorEnv([lambda: gym.make("CartPole-v1")] * 2)
    config = RunConfig(seed=3, total_steps=400, log_every=100, eval=EvalConfig(every=0, episodes=2))
    import tempfile

    with tempfile.TemporaryDirectory() as run_dir:
        runner = Runner(
            agent, envs, lambda: gym.make("CartPole-v1"), config, MultiLogger([memory]), Path(run_dir)
        )
        counters = runner.train()
        runner.close()
        assert (Path(run_dir) / "checkpoints" / "latest.pt").is_file()
    assert counters.step == 400 and agent.seen == 400
    assert counters.episodes > 0  # pushing left all the time ends CartPole episodes quickly
    assert runner.final_eval.lengths and max(runner.final_eval.lengths) < 100
    assert any("eval/return_mean" in row for _, row in memory.rows)
