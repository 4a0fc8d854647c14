"""The runner and the run directory: files, TensorBoard tags, budgets, evaluation, reproducibility, Ctrl-C."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlkit.core.checkpoint import load_checkpoint

from .conftest import ctrl_c_at_update, train_in_process, trained_runner

TAGS = {
    "train/episode_return", "train/episode_length", "train/epsilon", "train/abs_td_error", "time/sps",
    "eval/return_mean", "eval/return_std",
}  # fmt: skip


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_run_directory_holds_everything(run_dir) -> None:
    summary = train_in_process(run_dir, "total_episodes=50", "eval.every=200", "eval.episodes=3")
    assert {p.name for p in run_dir.iterdir()} >= {"metrics.jsonl", "checkpoints", "summary.json"}
    events = EventAccumulator(str(run_dir))
    events.Reload()
    assert set(events.Tags()["scalars"]) >= TAGS
    returns = events.Scalars("train/episode_return")
    assert len(returns) == 50 and all(e.value in (0.0, 100.0) for e in returns)
    rows = read_jsonl(run_dir / "metrics.jsonl")
    assert sum("train/episode_return" in r for r in rows) == 50
    assert not any(k.startswith("time/") for r in rows for k in r)  # wall-clock stays out of the JSONL
    evals = [r["step"] for r in rows if "eval/return_mean" in r]
    assert evals[:2] == [200, 400] and evals[-1] == summary["steps"]  # periodic, then the final one
    on_disk = json.loads((run_dir / "summary.json").read_text())
    assert on_disk == summary
    assert summary["episodes"] == 50 and summary["final_eval"]["episodes"] == 3
    assert {"return_mean", "return_std", "length_mean"} <= set(summary["final_eval"])
    assert {"seed", "steps", "wall_time_s", "versions"} <= set(summary)
    assert {"numpy", "gymnasium", "torch", "python"} <= set(summary["versions"])
    ckpt = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert ckpt["runner"]["step"] == summary["steps"] and ckpt["agent"]["q"].shape == (45, 4)
    assert (run_dir / "checkpoints" / "best.pt").is_file()


def test_same_seed_same_metrics_other_seed_differs(tmp_path) -> None:
    args = ("agent=sarsa", "total_steps=3000", "eval.every=1000")
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        train_in_process(tmp_path / name, *args, f"seed={seed}")
    a, b, c = ((tmp_path / n / "metrics.jsonl").read_text() for n in "abc")
    assert a == b and a != c


def test_step_and_episode_budgets(tmp_path) -> None:
    assert train_in_process(tmp_path / "s", "total_steps=777")["steps"] == 777
    assert train_in_process(tmp_path / "e", "total_episodes=13")["episodes"] == 13
    both = train_in_process(tmp_path / "b", "total_steps=100000", "total_episodes=5")
    assert both["episodes"] == 5  # whichever comes first
    assert train_in_process(tmp_path / "d")["episodes"] == 200  # the maze's default: the book's 200


def test_num_envs_batches_steps_and_episodes(run_dir) -> None:
    runner = trained_runner(run_dir, "num_envs=4", "total_steps=4000", "agent=expected_sarsa")
    assert runner.counters.step == 4000  # 1000 batched steps of 4 envs
    rows = read_jsonl(run_dir / "metrics.jsonl")
    lengths = [r["train/episode_length"] for r in rows if "train/episode_length" in r]
    assert runner.counters.episodes == len(lengths) > 4
    assert all(1 <= n <= 30 for n in lengths) and runner.final_eval.return_mean == 100.0


def test_stop_when_recent_mean_return_is_reached(run_dir) -> None:
    summary = train_in_process(run_dir, "total_steps=50000", "stop.return_mean=99", "stop.window=10")
    assert summary["stopped_early"] and summary["steps"] < 50000
    rows = read_jsonl(run_dir / "metrics.jsonl")
    last10 = [r["train/episode_return"] for r in rows if "train/episode_return" in r][-10:]
    assert np.mean(last10) >= 99


def test_ctrl_c_finishes_the_step_and_keeps_a_checkpoint(run_dir, monkeypatch) -> None:
    from rlkit.agents.tabular import TabularAgent

    with ctrl_c_at_update(monkeypatch, TabularAgent, 500), pytest.raises(KeyboardInterrupt):
        train_in_process(run_dir, "total_steps=5000", "checkpoint.every=0")
    state = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert state["runner"]["step"] == 500  # the interrupted step completed, then the checkpoint
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_gymnasium_env_by_id_with_constructor_kwargs(run_dir) -> None:
    summary = train_in_process(
        run_dir, "env=FrozenLake-v1", "env.kwargs.is_slippery=false", "total_steps=6000",
        "agent.epsilon=0.3", "eval.episodes=2",
    )  # fmt: skip
    assert summary["env"] == "FrozenLake-v1" and summary["final_eval"]["return_mean"] == 1.0
    assert summary["final_eval"]["length_mean"] == 6.0  # the shortest way across the 4x4 lake


def test_cliffwalking_runs(run_dir) -> None:
    summary = train_in_process(
        run_dir, "env=CliffWalking-v1", "total_steps=2000", "env.max_episode_steps=100"
    )
    assert summary["steps"] == 2000 and summary["episodes"] >= 1


def test_video_every_records_greedy_episodes(run_dir) -> None:
    train_in_process(run_dir, "total_steps=600", "video.every=250", "video.scale=2", "eval.every=0")
    gifs = sorted(p.name for p in (run_dir / "videos").glob("*.gif"))
    assert [g[:20] for g in gifs] == ["train_step000000250_", "train_step000000500_"]
    assert len(list((run_dir / "videos").glob("*.mp4"))) == 2
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    events.Reload()
    images = events.Images("eval/video")
    assert [e.step for e in images] == [250, 500] and (images[0].width, images[0].height) == (288, 160)


def test_a_checkpoint_never_runs_ahead_of_the_logs(run_dir) -> None:
    """A kill right after a checkpoint loses no metrics line logged before it (resume truncates after it)."""
    from rlkit.frontend.app import build_runner
    from rlkit.frontend.compose import compose_config

    runner = build_runner(compose_config(["ui=none", "total_steps=10"]), run_dir)
    try:
        runner.logger.log({"train/marker": 1.0}, 3)
        runner.save()
        # read while the run is still open, as a resumed run would find the file after a kill -9
        assert '"train/marker": 1.0' in (run_dir / "metrics.jsonl").read_text()
    finally:
        runner.close()


def test_data_paths_are_stored_absolute(tmp_path, monkeypatch) -> None:
    """A relative env.kwargs.path still points at the same file from `rlkit play run=...` elsewhere."""
    from rlkit.frontend.compose import rewrite_overrides

    monkeypatch.chdir(tmp_path)
    out = rewrite_overrides(["env=char_text", "env.kwargs.path=book.txt", "env.kwargs.num_steps=5"])
    assert f"++env.kwargs.path={tmp_path / 'book.txt'}" in out and "++env.kwargs.num_steps=5" in out
    assert "++env.kwargs.path=null" in rewrite_overrides(["env=char_text", "env.kwargs.path=null"])
