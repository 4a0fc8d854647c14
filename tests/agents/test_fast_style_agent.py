"""agent=fast_style on env=style_photos: the task's score by hand, training, checkpoints, play input=."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents import backbone_sources
from rlkit.agents.fast_style_agent import FastStyleAgent
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import UserError
from rlkit.envs.style_photos import StylePhotosEnv, colour_stats
from rlkit.frontend.cli import main

from ..conftest import ctrl_c_at_update

ARGS = ("agent=fast_style", "env=style_photos", "env.kwargs.image_size=16", "env.kwargs.n_crops=8",
        "env.eval_kwargs.n_crops=4", "ui=none", "num_threads=1", "agent.residual_blocks=1")  # fmt: skip


def test_the_task_scores_colour_statistics_by_hand() -> None:
    env = StylePhotosEnv(image_size=16, n_crops=8, batch_size=4)
    test = StylePhotosEnv(split="test", image_size=16, n_crops=8, batch_size=4)
    assert env.inputs.shape == (8, 3, 16, 16) and env.style.shape == (3, 16, 16)
    assert not np.array_equal(env.inputs, test.inputs)
    obs, _ = env.reset(seed=0)
    flat = np.broadcast_to(env.style.mean(axis=(1, 2))[None, :, None, None], (4, 3, 16, 16)).astype(
        np.float32
    )
    _, reward, _, _, info = env.step(flat)  # the style's mean colour everywhere: only the stds differ
    expected = float((env.style.std(axis=(1, 2)) ** 2).sum())
    assert info["metrics"]["style_distance"] == pytest.approx(expected, rel=1e-5) and reward == pytest.approx(
        -expected
    )
    assert info["style"] is env.style and info["targets"].dtype == np.float32
    _, _, _, _, info = env.step(env.targets[env._rows()])  # no change: content_change 0
    assert info["metrics"]["content_change"] == 0.0
    assert colour_stats(env.style[None]).shape == (1, 6)
    with pytest.raises(UserError, match="no such image"):
        StylePhotosEnv(style="nope.jpg")


def test_train_play_stylise_and_resume_exactly(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("RLKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(backbone_sources.PRETRAIN_RECIPE, "steps", 10)
    run = tmp_path / "run"
    assert main(["train", *ARGS, "total_steps=6", "checkpoint.every=3", f"hydra.run.dir={run}"]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("train/loss" in r for r in rows) and any("eval/style_distance" in r for r in rows)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["headline"]["key"] == "style_distance" and not summary["headline"]["higher_is_better"]
    Image.fromarray(np.full((20, 30, 3), 120, np.uint8)).save(tmp_path / "grey.png")
    capsys.readouterr()
    assert main(["play", f"run={run}", f"input={tmp_path / 'grey.png'}"]) == 0
    assert np.asarray(Image.open(run / "videos" / "stylised_grey.png")).shape == (16, 32, 3)
    cut = tmp_path / "cut"
    with ctrl_c_at_update(monkeypatch, FastStyleAgent, 2):
        assert main(["train", *ARGS, "total_steps=6", "checkpoint.every=3", f"hydra.run.dir={cut}"]) == 130
    assert main(["train", f"resume={cut}", "ui=none"]) == 0
    whole, resumed = (load_checkpoint(d / "checkpoints" / "latest.pt")["agent"]["model"] for d in (run, cut))
    for k in whole:
        torch.testing.assert_close(whole[k], resumed[k])


def test_fast_style_needs_a_style_task(tmp_path, capsys) -> None:
    assert (
        main(["train", "agent=fast_style", "env=digits", "ui=none", f"hydra.run.dir={tmp_path / 'r'}"]) == 2
    )
    assert "needs a style task" in capsys.readouterr().err
