"""agent=finetune in the runner: which weights load, which parameters train, resume, runs as backbones."""

from __future__ import annotations

import json

import pytest
import torch

from rlkit.agents import backbone_sources
from rlkit.agents.finetune import FinetuneAgent
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import UserError
from rlkit.frontend.app import build_runner
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config

from ..conftest import ctrl_c_at_update, one_line_error

FAST = ("ui=none", "num_threads=1", "checkpoint.every=0", "eval.every=0")
DIGITS_5_9 = (
    "env=digits",
    "env.kwargs.classes=[5,6,7,8,9]",
    "env.kwargs.limit=200",
    "env.kwargs.batch_size=50",
)


@pytest.fixture(autouse=True)
def small_cache(tmp_path_factory, monkeypatch):
    """A private cache with a quickly pre-trained small_cnn (10 steps instead of 400)."""
    monkeypatch.setenv("RLKIT_CACHE", str(tmp_path_factory.getbasetemp() / "rlkit_cache"))
    monkeypatch.setitem(backbone_sources.PRETRAIN_RECIPE, "steps", 10)


def built_agent(run_dir, *overrides: str) -> FinetuneAgent:
    """The agent `rlkit train <overrides>` starts with (nothing trained)."""
    runner = build_runner(compose_config(["ui=none", *overrides]), run_dir)
    runner.close()
    return runner.agent


def params(agent: FinetuneAgent) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in agent.model.named_parameters()}


def changed(before: dict, after: dict) -> set[str]:
    return {k for k in before if not torch.equal(before[k], after[k])}


@pytest.mark.parametrize("layers", ["head", "all"])
def test_finetuning_trains_exactly_the_chosen_parameters(tmp_path, layers) -> None:
    pretrained, _ = backbone_sources.pretrained_small_cnn()
    start = built_agent(tmp_path / "a", *FAST, "agent=finetune", *DIGITS_5_9)
    for k, v in pretrained.items():  # loaded: everything but the excluded head
        same = torch.equal(dict(start.model.net.named_parameters())[k], v)
        assert same == (not k.startswith("classifier.3.")), k
    overrides = (*FAST, "agent=finetune", *DIGITS_5_9, f"agent.train_layers={layers}", "total_steps=8")
    runner = build_runner(compose_config(["ui=none", *overrides]), tmp_path / "b")
    before = params(runner.agent)
    try:
        runner.train()
    finally:
        runner.close()
    moved = changed(before, params(runner.agent))
    head = {"net.classifier.3.weight", "net.classifier.3.bias"}
    assert moved == (head if layers == "head" else set(before))
    assert runner.agent.trainable == sorted(moved, key=list(before).index)


def test_scratch_ignores_the_pretrained_weights_and_exclude_reinitialises(tmp_path) -> None:
    pretrained, _ = backbone_sources.pretrained_small_cnn()
    scratch = built_agent(tmp_path / "a", *FAST, "agent=finetune", *DIGITS_5_9, "agent.pretrained=false")
    assert not torch.equal(scratch.model.net.features[0].weight, pretrained["features.0.weight"])
    partial = built_agent(
        tmp_path / "b", *FAST, "agent=finetune", *DIGITS_5_9, "agent.exclude=[classifier.3,features.7]"
    )
    assert not torch.equal(partial.model.net.features[7].weight, pretrained["features.7.weight"])
    assert torch.equal(partial.model.net.features[5].weight, pretrained["features.5.weight"])


def test_a_run_is_a_backbone(tmp_path) -> None:
    args = (*FAST, *DIGITS_5_9, "total_steps=4")
    cnn_run = tmp_path / "cnn"
    assert main(["train", "agent=mnist_cnn", "agent.hidden=16", *args, f"hydra.run.dir={cnn_run}"]) == 0
    cnn = load_checkpoint(cnn_run / "checkpoints" / "latest.pt")["agent"]["model"]
    agent = built_agent(tmp_path / "b", "agent=finetune", f"agent.backbone_run={cnn_run}", *FAST, *DIGITS_5_9)
    assert torch.equal(agent.model.net.features[3].weight, cnn["body.0.3.weight"])  # its second conv
    assert "run" in agent.source
    ft_run = tmp_path / "ft"
    assert main(["train", "agent=finetune", "agent.train_layers=all", *args, f"hydra.run.dir={ft_run}"]) == 0
    ft = load_checkpoint(ft_run / "checkpoints" / "latest.pt")["agent"]["model"]
    again = built_agent(tmp_path / "d", "agent=finetune", f"agent.backbone_run={ft_run}", *FAST, *DIGITS_5_9)
    assert torch.equal(again.model.net.features[2].weight, ft["net.features.2.weight"])
    assert main(["play", f"run={ft_run}", "show=classes"]) == 0  # digits runs too (no input= needed)
    assert (ft_run / "videos" / "classes.png").is_file()


def test_ctrl_c_then_resume_ends_as_an_uninterrupted_run(tmp_path, monkeypatch) -> None:
    args = ["train", *FAST, "agent=finetune", "agent.train_layers=all", *DIGITS_5_9, "total_steps=12"]
    assert main([*args, f"hydra.run.dir={tmp_path / 'whole'}"]) == 0
    with ctrl_c_at_update(monkeypatch, FinetuneAgent, 5):
        assert main([*args, f"hydra.run.dir={tmp_path / 'cut'}"]) == 130
    assert main(["train", f"resume={tmp_path / 'cut'}", "ui=none"]) == 0
    whole, cut = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("whole", "cut"))
    assert cut["final_eval"]["accuracy"] == whole["final_eval"]["accuracy"]
    a, b = (load_checkpoint(tmp_path / d / "checkpoints" / "latest.pt")["agent"] for d in ("whole", "cut"))
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k])


def test_bad_settings_are_one_line(tmp_path, capsys) -> None:
    base = ["train", "agent=finetune", "env=digits", "ui=none", f"hydra.run.dir={tmp_path / 'r'}"]
    assert "agent.train_layers='top' is invalid: it must be one of head, all" in one_line_error(
        capsys, [*base, "agent.train_layers=top"]
    )
    assert "agent.pretrained=false to train it" in one_line_error(capsys, [*base, "agent.backbone=vgg16"])
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, bad)
    err = one_line_error(capsys, [*base, "agent.backbone=squeezenet1_1", f"agent.backbone_weights={bad}"])
    assert f"{bad}: 'features.0.weight' has shape (1,), the network (64, 3, 3, 3)" in err
    small = one_line_error(capsys, [*base, "agent.backbone=squeezenet1_1", "agent.pretrained=false"])
    assert "agent.backbone=squeezenet1_1 cannot take env 'digits''s 8x8 images" in small
    assert "distinct digits 0-9" in one_line_error(capsys, [*base, "env.kwargs.classes=[5,5]"])
    with pytest.raises(UserError, match="backbone_run=.*not an rlkit run directory"):
        built_agent(tmp_path / "x", "agent=finetune", f"agent.backbone_run={tmp_path}", *FAST, *DIGITS_5_9)


@pytest.mark.parametrize("agent", ["finetune", "fast_style"])
def test_building_leaves_the_global_random_state_alone(tmp_path, agent) -> None:
    import random

    import numpy as np

    env = DIGITS_5_9 if agent == "finetune" else ("env=style_photos", "env.kwargs.image_size=16")
    state = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    built_agent(tmp_path / "a", *FAST, f"agent={agent}", *env)  # builds the small_cnn cache on first use too
    assert torch.equal(state[0], torch.get_rng_state())
    assert np.array_equal(state[1], np.random.get_state()[1]) and state[2] == random.getstate()
