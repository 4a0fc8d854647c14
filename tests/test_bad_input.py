"""Issue 12 items 8, 9, 15 and part of 17: bad input gets one clear line (exit 2) before anything is written,
unknown keys are refused with or without `+`, and near-misses get a did-you-mean."""

from __future__ import annotations

import json
import os

import pytest

from rlkit.core.errors import UserError
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config
from tests.conftest import one_line_error

SHORT = ["total_steps=200", "ui=none"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["seed=-1"], "seed=-1 is invalid: it must be >= 0"),  # item 8
        (["seed=${oc.env:HOME}"], "could not be converted to Integer; full_key: seed"),
        (["agent.alpha=${oc.env:NOPE_VAR_RLKIT}"], "NOPE_VAR_RLKIT"),
        (["env=ALE/Pong-v5", "agent=dqn"], "use env=Pong"),
        (["hydra.run.dir=rüns/x"], "quote a value with non-ASCII characters"),
        (["hydra.run.dir="], "hydra.run.dir= is empty"),  # item 9
        (["env=FrozenLake-v1", "env.kwargs.is_slippery=maybe"], "it must be a bool (true or false)"),
        (["+total_step=1000"], "unknown key 'total_step'. Did you mean 'total_steps'"),  # item 15
        (["total_step=1000"], "unknown key 'total_step'. Did you mean 'total_steps'"),
        (["agent=sarsa", "+agent.lr=0.1"], "unknown key 'agent.lr'"),
        (["agent=DQN"], "unknown agent 'DQN'. Did you mean 'dqn'"),  # item 17
        (["--agent", "dqn"], "unknown option '--agent': options are key=value, e.g. agent=dqn"),
    ],
)
def test_bad_input_gets_one_line_and_writes_nothing(args, expected, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    err = one_line_error(capsys, ["train", *args, *SHORT])
    assert expected in err
    assert not list(tmp_path.glob("**/metrics.jsonl"))  # nothing trained, not even into the cwd


@pytest.mark.parametrize("name", ["file", "file/below", "a" * 300])
def test_unusable_run_dir_is_refused_in_one_line(name, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    err = one_line_error(capsys, ["train", f"hydra.run.dir={name}", *SHORT])
    assert "hydra.run.dir=" in err and "choose another folder" in err
    assert (tmp_path / "file").read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_run_dir_is_refused_in_one_line(capsys, tmp_path) -> None:
    tmp_path.chmod(0o555)
    try:
        err = one_line_error(capsys, ["train", f"hydra.run.dir={tmp_path / 'run'}", *SHORT])
    finally:
        tmp_path.chmod(0o755)
    assert "cannot write there" in err


def test_plus_on_an_extension_point_still_adds_a_key() -> None:
    cfg = compose_config(["env=FrozenLake-v1", "+env.kwargs.is_slippery=false", "+experiment=book_sarsa"])
    assert cfg.env.kwargs.is_slippery is False and cfg.agent.name == "sarsa"


def test_an_integral_float_is_taken_for_an_integer_key() -> None:
    assert compose_config(["total_steps=1e5"]).total_steps == 100_000
    with pytest.raises(UserError, match="total_steps"):
        compose_config(["total_steps=1.5e0"])


def test_eval_and_bench_out_that_cannot_be_written_get_one_line(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    assert main(["train", f"hydra.run.dir={run}", *SHORT]) == 0
    (tmp_path / "file").write_text("x")
    err = one_line_error(
        capsys, ["eval", f"run={run}", "episodes=1", f"out={tmp_path / 'file' / 'eval.json'}"]
    )
    assert "could not write" in err and "choose another out=" in err
    err = one_line_error(
        capsys,
        ["bench", "agents=[q_learning,sarsa]", "seeds=[0]", f"out={tmp_path / 'file'}", "total_steps=200"],
    )
    assert "out=" in err and "choose another folder" in err
    assert json.loads((run / "summary.json").read_text())["steps"] == 200


def test_atari_envs_print_no_ale_banner() -> None:  # item 17: `rlkit eval` on Atari printed it
    import subprocess
    import sys

    code = (
        "from rlkit.frontend.compose import compose_config; from rlkit.envs.factory import make_env; "
        "make_env(compose_config(['env=Pong', 'agent=dqn']).env, evaluation=True).reset(seed=0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "A.L.E" not in out.stdout + out.stderr
