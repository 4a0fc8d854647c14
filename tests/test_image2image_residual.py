"""Issue 15, round 2: pix2pix's generator starting from the trivial answer (agent.residual=input|hole).

An untrained residual generator answers exactly the env's baseline (bicubic for x4 SR, the mean-filled hole
for inpainting); the hole mode keeps the known pixels and takes its L1 over the hole only; the presets run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents.image2image_nets import SRCNN, UNet, hole_mask, residual_answer, zero_output
from rlkit.agents.pix2pix import Pix2PixAgent, Pix2PixConfig
from rlkit.core.types import AgentContext
from rlkit.envs import image2image_data as data
from rlkit.envs.image2image import Image2ImageEnv
from rlkit.frontend.cli import main
from tests.conftest import one_line_error
from tests.test_image2image import TINY

SMALL = {"ngf": 4, "ndf": 4, "depth": 5}


def agent_for(env: Image2ImageEnv, **cfg) -> Pix2PixAgent:
    ctx = AgentContext(env.observation_space, env.action_space, seed=3, agent_name="pix2pix")
    return Pix2PixAgent(Pix2PixConfig(**cfg), ctx)


def answer(agent: Pix2PixAgent, env: Image2ImageEnv, explore: bool = False) -> np.ndarray:
    """The env's uint8 answer to its first minibatch of evaluation crops."""
    inputs = env.inputs[: env.batch_size]
    return env.finish(inputs, agent.act(inputs[None], explore=explore)[0])


def test_shapes_and_the_hole_composite_by_hand() -> None:
    x = torch.zeros(2, 3, 32, 32)
    assert UNet(3, 3, ngf=4, depth=5, tanh=False)(x).shape == x.shape
    net = UNet(3, 3, ngf=4, depth=5, tanh=False)
    zero_output(net)
    assert torch.equal(net(torch.randn(2, 3, 32, 32)), x)  # zeroed output layer, no tanh: exactly 0
    image = np.full((20, 20, 3), 40, np.uint8)
    image[:, :10] = 80  # known pixels: half 40, half 80 (the hole is centred), so the mean fill is 60
    blank = torch.as_tensor(data.blank(image)).permute(2, 0, 1)[None].float() / 127.5 - 1
    hole = hole_mask(blank)
    assert hole.shape == (1, 1, 20, 20) and int(hole.sum()) == 36  # 30% of 20 = a 6x6 hole
    out = residual_answer(blank, torch.full_like(blank, 0.1), "hole")
    assert torch.allclose(out[hole.expand_as(out)], torch.tensor(60 / 127.5 - 1 + 0.1))
    assert torch.equal(out[~hole.expand_as(out)], blank[~hole.expand_as(blank)])  # known pixels kept
    assert torch.equal(residual_answer(blank, out, "input"), blank + out)


@pytest.mark.parametrize(
    "task, cfg",
    [
        ("super_resolution", {"residual": "input", **SMALL}),
        ("super_resolution", {"residual": "input", "generator": "srcnn", "gan_weight": 0.0}),
        ("colorize", {"residual": "input", **SMALL}),
        ("inpaint", {"residual": "hole", **SMALL}),
    ],
)
def test_an_untrained_residual_generator_answers_exactly_the_baseline(task: str, cfg: dict) -> None:
    env = Image2ImageEnv(task, split="test", crop=32, batch_size=4, eval_crops_per_image=2)
    inputs = env.inputs[:4]
    for explore in (False, True):  # greedy, and in training mode (dropout on)
        assert np.array_equal(answer(agent_for(env, **cfg), env, explore), env.baseline(inputs))
    plain = answer(agent_for(env, **{**cfg, "residual": "none"}), env)
    assert not np.array_equal(plain, env.baseline(inputs))  # the paper's init answers something else


def test_hole_mode_learns_only_the_hole_and_its_l1_is_the_holes_mean() -> None:
    env = Image2ImageEnv("inpaint", split="test", crop=32, batch_size=4, eval_crops_per_image=1)
    agent = agent_for(env, residual="hole", gan_weight=0.0, **SMALL)
    inputs, targets = env.inputs[:4], env.targets[:4]
    out = agent.act(inputs[None])[0]
    top, left, h, w = data.hole_box(32, 32)
    outside = np.ones((32, 32), bool)
    outside[top : top + h, left : left + w] = False
    x = inputs.astype(np.float32) / 127.5 - 1
    assert np.array_equal(out[..., outside], x[..., outside])  # the known pixels, exactly
    hole_err = np.abs(out - (targets.astype(np.float32) / 127.5 - 1))[..., ~outside].mean()
    agent.observe(_transition(inputs, targets))
    metrics = agent.update()
    assert np.isclose(metrics["l1"], hole_err, rtol=1e-5)  # the hole's mean, not diluted by the rest
    after = agent.act(inputs[None])[0]
    assert np.array_equal(after[..., outside], x[..., outside]) and not np.array_equal(after, out)


def _transition(inputs: np.ndarray, targets: np.ndarray):
    from rlkit.core.types import Transition

    info = [{"targets": targets, "mask": np.ones(len(targets), bool)}]
    zeros = np.zeros(1)
    return Transition(inputs[None], None, zeros, inputs[None], zeros > 0, zeros > 0, info)


@pytest.mark.parametrize("preset", ["pix2pix_sr", "pix2pix_inpaint"])
def test_presets_train_and_start_near_the_baseline(tmp_path: Path, preset: str) -> None:
    run = tmp_path / "run"
    args = ["train", f"+experiment={preset}", *TINY, "total_steps=4", "eval.every=0", f"hydra.run.dir={run}"]
    assert main(args) == 0
    final = json.loads((run / "summary.json").read_text())["final_eval"]
    # 4 steps from the trivial answer: still within a dB of it (the paper's generator starts at ~10 dB)
    assert abs(final["psnr"] - final["baseline_psnr"]) < 1.0 and final["baseline_psnr"] > 15
    config = (run / ".hydra" / "config.yaml").read_text()
    assert f"residual: {'input' if preset == 'pix2pix_sr' else 'hole'}" in config
    if preset == "pix2pix_inpaint":  # play: whole held-out photographs, the known pixels kept exactly
        assert main(["play", f"run={run}", "render=gif"]) == 0
        images = run / "videos" / "images"
        with (
            Image.open(images / "latest-000-inputs.png") as a,
            Image.open(images / "latest-000-outputs.png") as o,
        ):
            a, o = np.asarray(a), np.asarray(o)
        known = ~(a == 255).all(axis=-1)
        assert a.shape == o.shape and np.array_equal(a[known], o[known]) and (o[~known] != 255).any()


def test_bad_residual_settings_fail_in_one_line(capsys) -> None:
    err = one_line_error(capsys, ["train", "agent=pix2pix", "env=colorize", "agent.residual=yes"])
    assert "agent.residual" in err and "none, input, hole" in err
    err = one_line_error(
        capsys, ["train", "agent=pix2pix", "env=colorize", "agent.lab=true", "agent.residual=input"]
    )
    assert "agent.residual=none" in err


def test_srcnn_module_is_the_plain_network() -> None:
    net = SRCNN()
    zero_output(net)
    assert torch.equal(net(torch.ones(1, 3, 8, 8)), torch.zeros(1, 3, 8, 8))
