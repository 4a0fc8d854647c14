"""Issue 14 (GAN part, item 2): a few-step `rlkit train` of agent=gan on every GAN env (every loss and arch
among them), the DCGAN's shapes at the image envs' sizes, checkpoint and resume of a DCGAN run (batch norm
statistics included), and `rlkit play`'s files on an image run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces
from PIL import Image

from rlkit.agents.gan import GanAgent, GanConfig
from rlkit.agents.gan_nets import build_nets
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.types import AgentContext
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, one_line_error, read_metrics
from tests.envs.test_gan_images import write_folder, write_mnist


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch) -> None:
    """mnist_gan's trained feature classifier goes to a temporary cache, not ~/.cache/rlkit."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


SMALL = ["agent=gan", "ui=none", "num_threads=1", "agent.noise_dim=8"]
HEADLINE = {"gaussian_ring": "modes_covered", "gaussian_grid": "modes_covered"}  # else frechet


def env_args(env: str, tmp: Path) -> list[str]:
    """A tiny configuration of each GAN env (fixtures written under tmp)."""
    if env.startswith("gaussian"):
        return [f"env={env}", "env.kwargs.batch_size=32", "env.kwargs.batches=4", "env.eval_kwargs.batches=2"]
    if env == "digits_gan":
        return [f"env={env}", "env.kwargs.limit=64", "env.kwargs.batch_size=32", "env.eval_kwargs.limit=64"]
    if env == "mnist_gan":
        return [f"env={env}", f"env.kwargs.data_dir={write_mnist(tmp / 'mnist')}", "env.kwargs.batch_size=16"]
    root = write_folder(tmp / "imgs", n=20)
    return [f"env={env}", f"env.kwargs.root={root}", "env.kwargs.size=8", "env.kwargs.batch_size=8"]


@pytest.mark.parametrize(
    "env,loss,arch",
    [
        ("gaussian_ring", "wgan_gp", "mlp"),
        ("gaussian_grid", "lsgan", "mlp"),
        ("digits_gan", "vanilla", "dcgan"),
        ("mnist_gan", "lsgan", "dcgan"),
        ("mnist_gan", "vanilla", "mlp"),
        ("image_folder_gan", "wgan_gp", "dcgan"),
    ],
)
def test_every_gan_env_trains_a_few_steps(tmp_path: Path, env: str, loss: str, arch: str) -> None:
    run = tmp_path / "run"
    args = [*SMALL, *env_args(env, tmp_path), f"agent.loss={loss}", f"agent.arch={arch}", "log_every=3"]
    assert main(["train", *args, "total_steps=6", f"hydra.run.dir={run}"]) == 0
    rows = read_metrics(run)
    train = [r for r in rows if "train/d_loss" in r][-1]
    assert all(math.isfinite(train[f"train/{k}"]) for k in ("d_loss", "g_loss", "d_real", "d_fake"))
    assert ("train/gradient_penalty" in train) == (loss == "wgan_gp")
    final = [r for r in rows if "eval/return_mean" in r][-1]
    headline = HEADLINE.get(env, "frechet")
    assert json.loads((run / "summary.json").read_text())["headline"]["key"] == headline
    assert math.isclose(final["eval/return_mean"], final[f"eval/{headline}"] * (1 if env in HEADLINE else -1))
    with Image.open(run / "samples" / "step_6.png") as grid:
        assert grid.format == "PNG" and grid.mode == "RGB"


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32), (3, 16, 24)])
def test_dcgan_is_sized_to_the_image(shape: tuple[int, int, int]) -> None:
    gen, disc = build_nets("dcgan", 96, shape, image=True)
    gen.eval()
    with torch.no_grad():
        images = gen(torch.rand(5, 96) * 2 - 1)
        assert images.shape == (5, *shape) and images.abs().max() <= 1
        assert disc(images).shape == (5,)
    first = next(m for m in gen.fc if isinstance(m, torch.nn.Linear))
    assert first.in_features == 96 and first.out_features == 1024  # CS231n: FC 1024, then 128 x H/4 x W/4
    assert gen.start == (128, shape[1] // 4, shape[2] // 4)


def test_dcgan_image_run_resumes_after_ctrl_c_as_if_uninterrupted(tmp_path: Path, monkeypatch) -> None:
    args = [*SMALL, *env_args("image_folder_gan", tmp_path), "agent.arch=dcgan", "total_steps=8"]
    args += ["eval.every=4", "log_every=2", "checkpoint.every=0"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, GanAgent, 5):  # mid-epoch (2 minibatches of 8 per epoch)
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["runner"]["step"] == 5
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]["generator"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["generator"]
    assert any("running_mean" in k for k in ref) and all(torch.equal(ref[k], resumed[k]) for k in ref)
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_4.png", "step_8.png"]


def test_play_on_an_mnist_run_writes_a_grid_and_an_interpolation(tmp_path: Path, capsys) -> None:
    run, out = tmp_path / "run", tmp_path / "out"
    args = [*SMALL, *env_args("mnist_gan", tmp_path), "total_steps=3"]
    assert main(["train", *args, f"hydra.run.dir={run}"]) == 0
    assert main(["play", f"run={run}", f"out={out}"]) == 0
    assert f"Wrote {out / 'latest_samples.png'}" in capsys.readouterr().out
    with Image.open(out / "latest_samples.png") as grid:
        grid.verify()
        assert grid.format == "PNG" and grid.size == (8 * 30 + 2, 8 * 30 + 2)  # 8x8 tiles of 28 + 2 gap
    with Image.open(out / "latest_interpolation.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 2 * 16 - 2 and gif.size == (242, 242)


def test_mlp_widths_are_settings(tmp_path: Path, capsys) -> None:
    box = spaces.Box(-np.inf, np.inf, (4, 2), np.float32)
    agent = GanAgent(GanConfig(g_hidden=16, d_hidden=8), AgentContext(box, box, seed=0))

    def widths(net: torch.nn.Module) -> list[int]:
        return [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)]

    assert widths(agent.generator) == [16, 16, 2] and widths(agent.discriminator) == [8, 8, 1]
    args = ["train", *SMALL, *env_args("gaussian_ring", tmp_path), "agent.g_hidden=0"]
    err = one_line_error(capsys, [*args, f"hydra.run.dir={tmp_path / 'run'}"])
    assert "agent.g_hidden=0 is invalid: it must be >= 1" in err
