"""Issue 14 (GAN part): the gan agent's losses and gradient penalty, the 2-D mode metrics, the GAN task envs
through `rlkit train`, resume and `rlkit play`, and the sample grids written at evaluations."""

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
from rlkit.agents.gan_nets import d_loss, g_loss, gradient_penalty
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.types import AgentContext, Transition
from rlkit.envs.gan import GaussianMixtureEnv, mixture_modes
from rlkit.envs.gan_metrics import frechet_distance, mode_metrics
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, read_metrics

RING = ["env=gaussian_ring", "env.kwargs.batch_size=32", "env.kwargs.batches=5", "env.eval_kwargs.batches=2"]
SMALL = ["agent=gan", "ui=none", "num_threads=1", "agent.noise_dim=8"]

REAL = torch.tensor([2.0, -1.0, 0.5])
FAKE = torch.tensor([-3.0, 0.0, 1.5])


def softplus(x: torch.Tensor) -> torch.Tensor:
    return torch.log1p(torch.exp(x))


# ----- item 2: losses and the gradient penalty --------------------------------------------------------
def test_vanilla_losses_match_the_closed_form() -> None:
    # BCE(D(x), 1) = -log sigmoid(l) = softplus(-l); BCE(D(G(z)), 0) = softplus(l);
    # the non-saturating G loss: softplus(-l)
    expected_d = softplus(-REAL).mean() + softplus(FAKE).mean()
    assert torch.allclose(d_loss("vanilla", REAL, FAKE), expected_d)
    assert torch.allclose(g_loss("vanilla", FAKE), softplus(-FAKE).mean())


def test_lsgan_and_wgan_losses_match_the_closed_form() -> None:
    expected = 0.5 * ((1.0 + 4.0 + 0.25) / 3) + 0.5 * ((9.0 + 0.0 + 2.25) / 3)
    assert math.isclose(float(d_loss("lsgan", REAL, FAKE)), expected, rel_tol=1e-6)
    assert math.isclose(float(g_loss("lsgan", FAKE)), 0.5 * ((16.0 + 1.0 + 0.25) / 3), rel_tol=1e-6)
    assert math.isclose(float(d_loss("wgan_gp", REAL, FAKE)), (-1.5 / 3) - (1.5 / 3), rel_tol=1e-6)
    assert math.isclose(float(g_loss("wgan_gp", FAKE)), 1.5 / 3, rel_tol=1e-6)


def test_gradient_penalty_matches_a_hand_computation() -> None:
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    real, fake, eps = torch.randn(5, 3), torch.randn(5, 3), torch.rand(5)
    by_hand = []
    for i in range(5):  # one sample at a time: x^ = eps x + (1 - eps) G(z), ||dD/dx^|| by autograd
        x = (eps[i] * real[i] + (1 - eps[i]) * fake[i]).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x[None]).sum(), x)
        by_hand.append((grad.norm() - 1) ** 2)
    gp = gradient_penalty(lambda x: critic(x).squeeze(1), real, fake, eps)
    assert torch.allclose(gp, torch.stack(by_hand).mean(), atol=1e-6)
    linear = torch.nn.Linear(3, 1)  # a linear critic's gradient is its weight everywhere
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[3.0, 0.0, 4.0]]))
    gp = gradient_penalty(lambda x: linear(x).squeeze(1), real, fake, eps)
    assert math.isclose(gp.item(), (5.0 - 1.0) ** 2, rel_tol=1e-6)


@pytest.mark.parametrize(
    "loss,arch",
    [("vanilla", "mlp"), ("lsgan", "mlp"), ("wgan_gp", "mlp"), ("vanilla", "dcgan"), ("wgan_gp", "dcgan")],
)
def test_every_loss_and_arch_learns_with_finite_metrics(loss: str, arch: str) -> None:
    box = spaces.Box(-1, 1, (16, 1, 8, 8), np.float32)
    agent = GanAgent(GanConfig(loss=loss, arch=arch, noise_dim=8), AgentContext(box, box, seed=3))
    assert agent.critic_steps == (5 if loss == "wgan_gp" else 1)
    obs = np.random.default_rng(0).uniform(-1, 1, (1, *box.shape)).astype(np.float32)
    for _ in range(agent.critic_steps):
        fake = agent.act(obs)
        assert fake.shape == obs.shape and fake.dtype == np.float32
        agent.observe(Transition(obs, fake, np.zeros(1), obs, np.zeros(1, bool), np.zeros(1, bool), [{}]))
        metrics = agent.update()
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(metrics)
    assert all(math.isfinite(v) for v in metrics.values())
    assert np.array_equal(agent.act(obs, explore=False), agent.act(obs, explore=False)) is False  # a sequence
    agent.act(obs)  # training restarts the fixed sequence at the next evaluation
    first = agent.act(obs, explore=False)
    assert np.array_equal(first[0, :8], agent.fixed_samples(8))


def test_bad_gan_settings_fail_in_one_line(tmp_path: Path, capsys) -> None:
    assert main(["train", *SMALL, *RING, "agent.loss=hinge", f"hydra.run.dir={tmp_path / 'a'}"]) == 2
    assert (
        "agent.loss='hinge' is invalid: it must be one of vanilla, lsgan, wgan_gp" in capsys.readouterr().err
    )
    assert main(["train", *SMALL, *RING, "agent.arch=dcgan", f"hydra.run.dir={tmp_path / 'b'}"]) == 2
    err = capsys.readouterr().err
    assert "agent.arch=dcgan needs images" in err and "use agent.arch=mlp" in err and err.count("\n") == 1
    assert main(["train", "agent=gan", "env=maze", "ui=none", f"hydra.run.dir={tmp_path / 'c'}"]) == 2
    assert "needs a GAN task env" in capsys.readouterr().err


# ----- item 1: the 2-D metrics and the image metrics -----------------------------------------------------
def test_mode_metrics_on_hand_made_samples() -> None:
    modes, std = mixture_modes("ring")
    everywhere = np.repeat(modes, 25, axis=0) + 0.5 * std  # 25 points at each of the 8 modes
    assert mode_metrics(everywhere, modes, std, min_per_mode=20) == {
        "modes_covered": 8.0,
        "high_quality": 1.0,
    }
    collapsed = np.concatenate([np.repeat(modes[:1], 90, axis=0), np.zeros((10, 2))])  # one mode, 10 far
    assert mode_metrics(collapsed, modes, std, min_per_mode=20) == {"modes_covered": 1.0, "high_quality": 0.9}
    few = np.repeat(modes, [19, 20, 0, 0, 0, 0, 0, 0], axis=0)  # a mode needs min_per_mode samples
    assert mode_metrics(few, modes, std, min_per_mode=20)["modes_covered"] == 1.0
    grid, grid_std = mixture_modes("grid")
    assert len(grid) == 25 and mode_metrics(grid, grid, grid_std)["modes_covered"] == 25.0


def test_frechet_distance_of_gaussians() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) < 1e-6
    assert math.isclose(frechet_distance(a, a + [2.0, 0.0, 0.0]), 4.0, abs_tol=1e-4)  # only the means differ


def test_ring_env_reports_modes_at_the_end_of_an_epoch() -> None:
    env = GaussianMixtureEnv("ring", split="test", batch_size=64, batches=2, min_per_mode=1)
    obs, _ = env.reset(seed=0)
    _, r1, done, _, info = env.step(obs)  # the real samples as the "generated" ones: all high quality
    assert not done and r1 == 0.0 and info["metrics"] == {"high_quality": 1.0, "count": 64.0}
    _, r2, done, _, info = env.step(np.zeros_like(obs))  # the centre is no mode
    assert done and info["metrics"]["high_quality"] == 0.0 and info["metrics"]["modes_covered"] == 8.0
    assert r2 == 8.0  # the epoch's headline is the last step's reward: the return is the epoch's score


# ----- item 4: through rlkit train, resume and play ---------------------------------------------------------
def is_png(path: Path) -> bool:
    with Image.open(path) as image:
        image.verify()
        return image.format == "PNG"


@pytest.mark.parametrize("env", ["ring", "digits"])
def test_gan_trains_through_the_cli_with_metrics_and_sample_grids(tmp_path: Path, env: str) -> None:
    run = tmp_path / "run"
    task = RING if env == "ring" else ["env=digits_gan", "env.kwargs.limit=64", "env.kwargs.batch_size=32"]
    args = [*SMALL, *task, "total_steps=10", "eval.every=6", "log_every=5", f"hydra.run.dir={run}"]
    assert main(["train", *args]) == 0
    rows = read_metrics(run)
    train = [r for r in rows if "train/d_loss" in r]
    assert train and {"train/g_loss", "train/d_real", "train/d_fake"} <= set(train[-1])
    evals = [r for r in rows if "eval/return_mean" in r]
    assert [r["step"] for r in evals] == [6, 10]
    keys = (
        ["modes_covered", "high_quality"] if env == "ring" else ["frechet", "frechet_floor", "class_entropy"]
    )
    assert all(f"eval/{k}" in evals[-1] for k in keys + (["classes_covered"] if env == "digits" else []))
    summary = json.loads((run / "summary.json").read_text())
    headline = "modes_covered" if env == "ring" else "frechet"
    assert summary["headline"]["key"] == headline
    sign = 1 if env == "ring" else -1  # the return is the headline, higher is better
    assert math.isclose(evals[-1]["eval/return_mean"], sign * evals[-1][f"eval/{headline}"])
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_10.png", "step_6.png"]
    assert all(is_png(p) for p in (run / "samples").iterdir())


def test_gan_resume_after_ctrl_c_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    args = [*SMALL, *RING, "total_steps=12", "eval.every=6", "log_every=3", "checkpoint.every=0"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, GanAgent, 8):  # mid-epoch
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    state = load_checkpoint(run / "checkpoints" / "latest.pt")
    assert state["runner"]["step"] == 8 and state["agent"]["updates"] == 8
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]["generator"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["generator"]
    assert all(torch.equal(ref[k], resumed[k]) for k in ref)


def test_play_writes_a_sample_grid_png(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *SMALL, *RING, "total_steps=5", f"hydra.run.dir={run}"]) == 0
    out = tmp_path / "out"
    assert main(["play", f"run={run}", f"out={out}", "render=gif"]) == 0
    printed = capsys.readouterr().out
    assert (
        f"Wrote {out / 'latest_samples.png'}" in printed
        and f"Wrote {out / 'latest_interpolation.gif'}" in printed
    )
    with Image.open(out / "latest_interpolation.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames > 1
    assert is_png(out / "latest_samples.png")
    with Image.open(out / "latest_samples.png") as image:
        assert image.size[0] > 100 and image.mode == "RGB"


def test_gan_agent_leaves_the_global_random_generators_alone() -> None:
    box = spaces.Box(-np.inf, np.inf, (16, 2), np.float32)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    agent = GanAgent(GanConfig(loss="wgan_gp", noise_dim=4), AgentContext(box, box, seed=1))
    obs = np.zeros((1, *box.shape), np.float32)
    fake = agent.act(obs)
    agent.observe(Transition(obs, fake, np.zeros(1), obs, np.zeros(1, bool), np.zeros(1, bool), [{}]))
    agent.update()
    agent.act(obs, explore=False)
    assert torch.equal(torch.get_rng_state(), torch_state) and np.array_equal(
        np.random.get_state()[1], np_state
    )
    again = GanAgent(GanConfig(loss="wgan_gp", noise_dim=4), AgentContext(box, box, seed=1))
    assert np.array_equal(again.act(obs), fake)  # the seed alone fixes the networks and the noise


def test_a_nan_generator_loss_stops_the_run(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr("rlkit.agents.gan.g_loss", lambda loss, fake: fake.mean() * float("nan"))
    run = tmp_path / "run"
    assert main(["train", *SMALL, *RING, "total_steps=6", "log_every=2", f"hydra.run.dir={run}"]) == 2
    err = capsys.readouterr().err
    assert "g_loss" in err and "nan" in err.lower()
