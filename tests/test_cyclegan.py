"""Issue 15, CycleGAN: the history buffer, the linear LR decay, the losses on fixed tensors, and runs through
`rlkit train` (photo2sepia and CycleGAN folders), resume after Ctrl-C and `rlkit play`; and that both image
translation agents leave the global RNGs alone."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents.cyclegan import CycleGanAgent, ImageHistory, linear_decay
from rlkit.agents.gan_nets import d_loss, g_loss
from rlkit.core.checkpoint import load_checkpoint
from rlkit.envs import image2image_data as data
from rlkit.envs.cyclegan import sepia
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, one_line_error, read_metrics
from tests.test_agent_global_state import global_state, make_agent

TINY = [
    "agent=cyclegan",
    "env.kwargs.crop=16",
    "env.kwargs.crops_per_epoch=4",
    "env.kwargs.batch_size=2",
    "env.eval_kwargs.eval_crops_per_image=1",
    "agent.ngf=4",
    "agent.ndf=4",
    "agent.blocks=1",
    "agent.d_layers=2",
    "agent.n_epochs=4",
    "agent.decay_epoch=2",
    "num_threads=1",
    "ui=none",
]


CROPS = ["env.kwargs.crop=32", "env.kwargs.crops_per_epoch=8", "env.kwargs.batch_size=4", "num_threads=1"]


def test_history_returns_new_images_until_full_then_a_stored_one_half_of_the_time() -> None:
    history = ImageHistory(3, np.random.default_rng(0))
    first = torch.arange(3.0).reshape(3, 1, 1, 1)
    assert torch.equal(history.push_and_pop(first), first) and len(history.images) == 3
    new = torch.arange(100.0, 2100.0).reshape(2000, 1, 1, 1)
    out = history.push_and_pop(new).flatten()
    swapped = out != new.flatten()
    assert 0.45 < swapped.float().mean().item() < 0.55  # a stored image half of the time (n=2000: std 0.011)
    assert (out[swapped] < new.flatten()[swapped]).all()  # what comes back was stored earlier
    assert len(history.images) == 3
    state = history.state_dict()
    again = ImageHistory(3, np.random.default_rng(0))
    again.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(again.images, history.images))


def test_linear_decay_matches_the_seed_lambda_lr() -> None:
    # n_epochs 50, decay from 30 (the seed's prose): 1 until epoch 30, then down by 1/20 per epoch
    assert [linear_decay(e, 50, 30) for e in (0, 29, 30, 31, 40, 49)] == [1, 1, 1, 0.95, 0.5, 1 - 19 / 20]
    assert linear_decay(10, 50, 30, offset=25) == 0.75


def test_lsgan_losses_on_fixed_tensors_are_the_seeds_mse() -> None:
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.5, -1.0])
    # D: (MSE(D(real), 1) + MSE(D(fake), 0)) / 2 = ((0 + 1) / 2 + (0.25 + 1) / 2) / 2 = 0.5625
    assert math.isclose(d_loss("lsgan", real, fake).item(), 0.5625)
    # G: the seed's MSE(D(fake), 1) = (0.25 + 4) / 2 = 2.125 = 2 x rlkit's lsgan g_loss (0.5 E[(D - 1)^2])
    assert math.isclose(2 * g_loss("lsgan", fake).item(), 2.125)


def test_sepia_is_the_fixed_filter() -> None:
    white = np.full((1, 1, 3), 255, np.uint8)
    # 0.6 x (row sums of the sepia matrix x 255) + 0.4 x 255, clipped: red and green saturate
    assert sepia(white)[0, 0].tolist() == [255, 255, round(0.6 * 0.937 * 255 + 0.4 * 255)]


def test_photo2sepia_run_logs_cycle_error_psnr_and_strips_and_play_writes_index(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", "env=photo2sepia", *TINY, "total_episodes=3", f"hydra.run.dir={run}"]) == 0
    final = json.loads((run / "summary.json").read_text())["final_eval"]
    assert 0 < final["cycle_error"] < 1 and 0 < final["psnr"] < 100 and final["baseline_psnr"] > 15
    assert math.isclose(final["return_mean"], final["psnr"], rel_tol=1e-6)
    logged = [m for m in read_metrics(run) if "train/cycle" in m]
    assert logged and all(
        math.isfinite(m["train/g_loss"]) and math.isfinite(m["train/d_loss"]) for m in logged
    )
    assert logged[-1]["train/lr"] == pytest.approx(2e-4 * linear_decay(3, 4, 2))  # 3 epochs done
    with Image.open(sorted((run / "samples").iterdir())[-1]) as im:  # A | G(A) | F(G(A)) | reference
        assert im.size == (4 * 18 + 2, 3 * 18 + 2)
    assert main(["play", f"run={run}", "render=gif"]) == 0
    html = (run / "videos" / "index.html").read_text()
    assert html.count("<tr>") == 4 and "latest-002-targets.png" in html


def test_cyclegan_folder_trains_with_the_cycle_error_as_headline(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for domain in "AB":
            for k in range(2):
                image = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
                data.write_image(image, tmp_path / "data" / f"{split}{domain}" / f"{k}.png")
    run = tmp_path / "run"
    root = f"env.kwargs.root={tmp_path / 'data'}"
    assert (
        main(["train", "env=cyclegan_folder", root, *TINY, "total_episodes=1", f"hydra.run.dir={run}"]) == 0
    )
    summary = json.loads((run / "summary.json").read_text())
    assert summary["headline"]["key"] == "cycle_error" and not summary["headline"]["higher_is_better"]
    assert math.isclose(
        summary["final_eval"]["return_mean"], -summary["final_eval"]["cycle_error"], rel_tol=1e-6
    )
    capsys.readouterr()
    err = one_line_error(
        capsys, ["train", "agent=cyclegan", "env=colorize", f"hydra.run.dir={tmp_path / 'x'}"]
    )
    assert "env=photo2sepia or env=cyclegan_folder" in err
    err = one_line_error(
        capsys, ["train", "env=photo2sepia", *TINY, "agent.d_layers=3", f"hydra.run.dir={tmp_path / 'y'}"]
    )
    assert "agent.d_layers=3 needs images of at least 24 px" in err


def test_cyclegan_resume_after_ctrl_c_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    args = ["env=photo2sepia", *TINY, "total_steps=6", "eval.every=3", "log_every=1", "agent.history=3"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, CycleGanAgent, 5):  # mid-epoch, the history buffers full
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]
    for net in ("g_ab", "g_ba", "d_a", "d_b"):
        assert all(torch.equal(ref[net][k], resumed[net][k]) for k in ref[net])
    assert torch.equal(ref["fake_b"]["images"], resumed["fake_b"]["images"])


@pytest.mark.parametrize(
    "overrides",
    [
        ["agent=pix2pix", "env=colorize", "agent.ngf=4", "agent.ndf=4", "agent.depth=5", *CROPS],
        ["env=photo2sepia", *TINY],
    ],
)
def test_agents_leave_global_rngs_alone_and_draw_dropout_from_their_own(overrides: list[str]) -> None:
    torch.manual_seed(1234)
    before = global_state()
    agent, obs = make_agent(overrides)
    first = agent.act(obs[None], explore=True)
    after = global_state()
    assert torch.equal(before[1], after[1]) and np.array_equal(before[2], after[2]) and before[3] == after[3]
    torch.manual_seed(99)  # another global state: the same agent seed draws the same dropout masks
    again, _ = make_agent(overrides)
    assert np.array_equal(again.act(obs[None], explore=True), first)
