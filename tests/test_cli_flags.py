"""`rlkit train`'s Hydra flags (one rlkit line for the ones it does not take) and `~` in path values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlkit.frontend.cli import home_expanded, main

from .conftest import one_line_error

INFO = "valid values are all, config, defaults, defaults-tree, plugins, searchpath"
OPTIONS = "its options are key=value, and --cfg job|hydra|all [--resolve] [--package KEY], --info ["


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--info", "bogus"], f"--info bogus is invalid: {INFO}"),
        (["-i", "bogus"], f"--info bogus is invalid: {INFO}"),
        (["--cfg"], "--cfg (no value) is invalid: valid values are job, hydra, all"),
        (["--cfg", "jobs"], "--cfg jobs is invalid: valid values are job, hydra, all"),
        (["--config-name", "x"], "--config-name is not an option of rlkit train: its config is always"),
        (["-cp", "/tmp"], "--config-path is not an option of rlkit train: its config is always rlkit's"),
        (["--config-dir", "/tmp"], "add a config folder with 'hydra.searchpath=[file:///absolute/folder]'"),
        (["--multirun"], "--multirun is not an option of rlkit train: rlkit train runs one config; to sweep"),
        (["--run"], f"--run is not an option of rlkit train; {OPTIONS}"),
        (["--hydra-help"], f"--hydra-help is not an option of rlkit train; {OPTIONS}"),
        (["--experimental-rerun", "x"], f"--experimental-rerun is not an option of rlkit train; {OPTIONS}"),
        (["--resolve"], "--resolve goes with --cfg job|hydra|all (which prints the config)"),
        (["--cfg", "job", "--package"], "--package needs a value: the config key to print"),
    ],
)
def test_a_flag_rlkit_train_does_not_take_is_one_line(flags, message, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    err = one_line_error(capsys, ["train", *flags, "total_episodes=2", "ui=none"])
    assert message in err
    assert list(tmp_path.iterdir()) == []  # nothing trained, nothing written


@pytest.mark.parametrize("flags", [["--info"], ["-i"], ["agent=sarsa", "--info", "all"]])
def test_info_alone_prints_all_of_hydras_information(flags, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *flags, "agent=sarsa"]) == 0
    out = capsys.readouterr().out
    assert "Defaults Tree" in out and "Config search path" in out and "agent: sarsa" in out
    assert list(tmp_path.iterdir()) == []


def test_a_character_hydra_refuses_is_named(capsys) -> None:
    err = one_line_error(capsys, ["train", "agent.alpha=b~c"])
    assert err == (
        "rlkit: error: cannot parse 'agent.alpha=b~c': Hydra's grammar does not take '~' there: quote the "
        "value, e.g. key='a~b'\n"
    )


def test_tilde_paths_are_in_the_home_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "hydra.run.dir=~/runs/mine", "total_episodes=2", "ui=none"]) == 0
    run = home / "runs" / "mine"
    assert json.loads((run / "summary.json").read_text())["episodes"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # no folder named `~`
    assert main(["eval", "run=~/runs/mine", "episodes=1", "ui=none"]) == 0
    assert (run / "eval.json").is_file()
    capsys.readouterr()
    assert main(["train", "resume=~/runs/mine"]) == 2
    assert f"the run in {run} is already complete" in capsys.readouterr().err


def test_home_expanded(monkeypatch) -> None:
    monkeypatch.setenv("HOME", "/home/a b")
    args = ["hydra.run.dir=~/x", "+env.kwargs.root=~", "prime=~/text", "~agent.eps", "seed=1", "out=a~"]
    assert home_expanded(args) == [
        "hydra.run.dir=/home/a b/x", "+env.kwargs.root=/home/a b", "prime=~/text", "~agent.eps", "seed=1",
        "out=a~",
    ]  # fmt: skip
    assert home_expanded(["hydra.run.dir=~/x"], quote=True) == ["hydra.run.dir='/home/a b/x'"]
