"""`rlkit play` and `rlkit eval` on real run directories: terminal text, eval.json, errors, videos."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlkit.core.checkpoint import load_checkpoint, save_checkpoint
from rlkit.core.errors import UserError
from rlkit.core.evaluation import EVAL_SEED_OFFSET, evaluate, play_episode
from rlkit.core.loggers import MultiLogger, TensorBoardLogger
from rlkit.envs.factory import make_env
from rlkit.frontend.app import build_agent
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config
from rlkit.frontend.play import choose_render
from rlkit.frontend.runs import load_run
from rlkit.frontend.terminal import TerminalAnimation, plain_frame, status_line
from rlkit.frontend.video import check_video_env, record_training_video


class Scripted:
    """Plays a fixed sequence of actions."""

    def __init__(self, actions: list[int]):
        self.actions = list(actions)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        return np.asarray([self.actions.pop(0)])


def cli_run(run_dir: Path, *overrides: str) -> Path:
    """A real run directory (.hydra/ included), made by `rlkit train` in this process."""
    assert main(["train", "ui=none", f"hydra.run.dir={run_dir}", *overrides]) == 0
    return run_dir


@pytest.fixture(scope="module")
def maze_run(tmp_path_factory) -> Path:
    return cli_run(tmp_path_factory.mktemp("maze") / "run")


@pytest.fixture(scope="module")
def lake_run(tmp_path_factory) -> Path:
    return cli_run(tmp_path_factory.mktemp("lake") / "run", "env=FrozenLake-v1", "total_steps=3000", "seed=4")


EXPECTED_MAZE = """\
scripted on a tiny maze
......
.Ax o.
......
episode 1/1  step 0  reward -  return 0

......
. A o.
......
episode 1/1  step 1  reward -5  return -5

......
.  Ao.
......
episode 1/1  step 2  reward 0  return -5

......
.   A.
......
episode 1/1  step 3  reward 100  return 95

episode 1/1: return 95, length 3
"""


def test_maze_terminal_rendering_is_the_expected_text() -> None:
    env = gym.make("rlkit/GridMaze-v0", map=["......", ".Ax o.", "......"], render_mode="ansi")
    out = io.StringIO()
    anim = TerminalAnimation("auto", speed=0.0, stream=out)  # not a terminal: plain frames
    anim.start("scripted on a tiny maze")
    ep = play_episode(
        Scripted([3, 3, 3]),
        env,
        seed=0,
        on_frame=lambda f, t, r, ret: anim.show(f, status_line(0, 1, t, r, ret)),
    )
    anim.message(f"episode 1/1: return {ep.ret:g}, length {ep.length}")
    anim.stop()
    assert anim.mode == "plain"
    assert out.getvalue() == EXPECTED_MAZE


def test_rich_animation_ends_on_the_last_frame() -> None:
    env = gym.make("rlkit/GridMaze-v0", map=["......", ".Ax o.", "......"], render_mode="ansi")
    out = io.StringIO()
    anim = TerminalAnimation("rich", speed=0.0, stream=out)
    anim.start("rich")
    play_episode(
        Scripted([3, 3, 3]), env, 0, on_frame=lambda f, t, r, ret: anim.show(f, status_line(0, 1, t, r, ret))
    )
    anim.stop()
    assert ".   A." in out.getvalue() and "return 95" in out.getvalue()


def test_plain_frames_keep_colour_marked_cells_visible() -> None:
    assert plain_frame("  (Down)\n\x1b[41mS\x1b[0mFFF\nFHFH") == "  (Down)\nsFFF\nFHFH"  # FrozenLake's agent
    assert plain_frame("|\x1b[43m \x1b[0m: |\x1b[35mY\x1b[0m|\x1b[34;1mB\x1b[0m") == "|@: |Y|B"  # Taxi's taxi


def test_play_a_trained_maze_run_in_the_terminal(maze_run: Path, capsys) -> None:
    assert main(["play", f"run={maze_run}", "speed=0"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out  # captured output: no control characters
    assert (
        out.splitlines()[0]
        == f"q_learning (latest checkpoint) on maze: 1 episode(s) from seed {EVAL_SEED_OFFSET}"
    )
    assert (
        ".........\n.A      .\n.     o .\n.       .\n.........\nepisode 1/1  step 0  reward -  return 0"
        in out
    )
    length = json.loads((maze_run / "summary.json").read_text())["final_eval"]["length_mean"]
    assert out.strip().endswith(f"episode 1/1: return 100, length {length:g}")
    assert out.count("episode 1/1  step") == length + 1


def test_play_a_maze_run_as_gif_and_mp4(maze_run: Path, capsys) -> None:
    assert main(["play", f"run={maze_run}", "checkpoint=best", "render=both", "scale=2", "episodes=2"]) == 0
    names = sorted(p.name for p in (maze_run / "videos").iterdir())
    assert names == [f"best_ep00{k}_return100.{ext}" for k in (0, 1) for ext in ("gif", "mp4")]
    assert "frames of 288x160" in capsys.readouterr().out  # 9 x 5 cells of 16 px, doubled


def test_eval_json_matches_a_direct_evaluation(lake_run: Path, capsys) -> None:
    assert main(["eval", f"run={lake_run}", "episodes=20", "seed=11"]) == 0
    table = capsys.readouterr().out
    saved = json.loads((lake_run / "eval.json").read_text())
    # The run rebuilt by hand: training overrides, agent, checkpoint, then rlkit.core.evaluation.evaluate.
    overrides = yaml.safe_load((lake_run / ".hydra" / "overrides.yaml").read_text())
    cfg = compose_config(overrides)
    env = make_env(cfg.env, evaluation=True)
    agent = build_agent(cfg, env.observation_space, env.action_space)
    agent.load_state_dict(load_checkpoint(lake_run / "checkpoints" / "latest.pt")["agent"])
    direct = evaluate(agent, env, 20, seed=11)
    assert (saved["returns"], saved["lengths"]) == (direct.returns, direct.lengths)
    assert (
        saved["return_mean"] == direct.return_mean
        and saved["seed"] == 11
        and saved["checkpoint_step"] == 3000
    )
    assert len(set(direct.lengths)) > 1  # slippery: the seeds matter
    rows = {"return mean": direct.return_mean, "return std": direct.return_std}
    rows["length mean"] = direct.length_mean
    assert all(f"  {name:<12} {value:>12.2f}" in table for name, value in rows.items())
    assert main(["eval", f"run={lake_run}", "episodes=20", "seed=11", f"out={lake_run}/again.json"]) == 0
    again = json.loads((lake_run / "again.json").read_text())
    assert (again["returns"], again["lengths"]) == (saved["returns"], saved["lengths"])


def test_eval_defaults_to_the_runs_evaluation_seeds(lake_run: Path) -> None:
    assert main(["eval", f"run={lake_run}", f"out={lake_run}/default.json"]) == 0
    saved = json.loads((lake_run / "default.json").read_text())
    assert saved["seed"] == 4 + EVAL_SEED_OFFSET and saved["episodes"] == 10


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "run directory {run} does not exist"),
        ("no_checkpoint", "no checkpoint 'latest' in run {run}"),
        ("misfit", "{run}/checkpoints/latest.pt does not fit its config: checkpoint Q-table has shape"),
        ("missing_key", "checkpoint {run}/checkpoints/latest.pt does not fit its config: missing key 'q'"),
        ("a_file", "run={run} is a file; give the run's directory"),
    ],
)
def test_bad_runs_fail_in_one_line(case, expected, maze_run, lake_run, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    if case == "a_file":
        run.write_text("")
    elif case != "missing":
        shutil.copytree(lake_run, run)
        shutil.rmtree(run / "checkpoints")
    if case == "misfit":  # a maze Q-table (45 states) in a FrozenLake run (16 states)
        shutil.copytree(maze_run / "checkpoints", run / "checkpoints")
    if case == "missing_key":
        save_checkpoint(run / "checkpoints" / "latest.pt", {"agent": {"steps": 0}, "runner": {}})
    for command in ("play", "eval"):
        assert main([command, f"run={run}"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("rlkit: error: ") and err.count("\n") == 1
        assert expected.format(run=run) in err


def test_argument_errors_and_help(maze_run: Path, capsys) -> None:
    assert main(["play", f"run={maze_run}", "speeed=0"]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'speeed' for `rlkit play`; valid keys: run, env, checkpoint, episodes, seed" in err
    assert main(["eval", f"run={maze_run}", "render=gif"]) == 2
    assert "valid keys: run, checkpoint, episodes, seed, out" in capsys.readouterr().err
    assert main(["play", f"run={maze_run}", "checkpoint=worst"]) == 2
    assert "valid values are latest, best" in capsys.readouterr().err
    assert main(["play"]) == 2 and "needs run=<run dir>" in capsys.readouterr().err
    for command in ("play", "eval"):
        assert main([command, "--help"]) == 0
        assert f"usage: rlkit {command} key=value" in capsys.readouterr().out
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert all(f"  {word} " in text for word in ("play", "eval", "train"))


def test_choose_render() -> None:
    text_and_pixels, pixels = ["ansi", "rgb_array", "human"], ["human", "rgb_array"]
    assert choose_render("auto", text_and_pixels, display=False)[0] == "text"
    assert choose_render("auto", pixels, display=False)[:2] == ("video", ("gif", "mp4"))
    assert choose_render("gif", text_and_pixels, display=True)[:2] == ("video", ("gif",))
    assert choose_render("human", pixels, display=True)[0] == "window"
    kind, formats, note = choose_render("human", pixels, display=False)
    assert (kind, formats) == ("video", ("gif", "mp4")) and "no display" in note
    with pytest.raises(UserError, match="render=text needs an env that renders text"):
        choose_render("text", pixels, display=False)
    with pytest.raises(
        UserError, match="render=mp4 needs an env that renders rgb_array frames; it renders: ansi"
    ):
        choose_render("mp4", ["ansi"], display=False)


def test_random_policy_on_an_env_without_a_run(tmp_path: Path, capsys) -> None:
    out = tmp_path / "v"
    assert main(["play", "env=maze_traps", "render=gif", f"out={out}", "max_steps=5"]) == 0
    assert "random policy on maze_traps" in capsys.readouterr().out
    assert [p.suffix for p in out.iterdir()] == [".gif"]


def test_record_training_video(maze_run: Path, tmp_path: Path) -> None:
    loaded = load_run(maze_run)
    logger = MultiLogger([TensorBoardLogger(tmp_path)])
    gif = record_training_video(
        loaded.agent,
        lambda render_mode: make_env(loaded.cfg.env, render_mode=render_mode, evaluation=True),
        tmp_path,
        step=2000,
        logger=logger,
        fps=8,
        scale=1,
        seed=0,
    )
    logger.close()
    assert gif == tmp_path / "videos" / "train_step000002000_ep000_return100.gif"
    assert gif.with_suffix(".mp4").is_file()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    (image,) = events.Images("eval/video")
    assert (image.step, image.width, image.height) == (2000, 144, 80)


class TextOnly(gym.Env):
    """An env that renders text only."""

    metadata = {"render_modes": ["ansi"]}
    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, render_mode: str | None = None):
        self.render_mode = render_mode


def test_video_every_on_a_text_only_env_fails_fast() -> None:
    with pytest.raises(
        UserError, match="video.every needs an env that renders rgb_array frames; this one renders: ansi"
    ):
        check_video_env(lambda render_mode: TextOnly(render_mode))


def test_ctrl_c_in_eval_does_not_claim_a_checkpoint(maze_run: Path, monkeypatch, capsys) -> None:
    import rlkit.frontend.eval_command

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rlkit.frontend.eval_command, "evaluate", interrupted)
    assert main(["eval", f"run={maze_run}", "episodes=2"]) == 130
    assert capsys.readouterr().err == "rlkit: interrupted\n"
