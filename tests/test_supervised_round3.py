"""Issue 20, round 3 (supervised tasks against the bare loop): the leaner paths compute what the old ones did.

- A full minibatch's loss skips the mask arithmetic: the loss and its gradients are bit for bit those of an
  all-ones mask (every loss the supervised agents use).
- The env's batch accuracy counts instead of taking NumPy means: the same float.
- Task envs that ignore their actions (`actions_ignored`) have None kept for replay, and a resumed epoch is
  rebuilt from placeholders: same observations, same metrics.jsonl as an uninterrupted run.
- A Char-RNN run (the unmasked NLL and the from_numpy path) writes the values recorded from the code before
  this round (commit 2cb93b8, same config and seed).
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlkit.agents.char_rnn import masked_nll
from rlkit.agents.model_agent import masked_cross_entropy, masked_mean, masked_mse
from rlkit.agents.supervised import SupervisedAgent
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.vector import SerialVectorEnv
from rlkit.envs.supervised import masked_accuracy
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, train_in_process


def _case(kind: str, n: int, g: torch.Generator):
    """(loss function, prediction requiring grad, targets) of one kind of supervised loss."""
    if kind == "ce":
        return (
            masked_cross_entropy,
            torch.randn(n, 10, generator=g) * 3,
            torch.randint(0, 10, (n,), generator=g),
        )
    if kind == "ce_seq":
        return (
            masked_cross_entropy,
            torch.randn(n, 7, 5, generator=g),
            torch.randint(0, 5, (n, 7), generator=g),
        )
    if kind == "mse":
        return masked_mse, torch.randn(n, 10, generator=g), torch.randn(n, 10, generator=g)
    logp = torch.log_softmax(torch.randn(n, 9, 6, generator=g), -1)
    return masked_nll, logp, torch.randint(0, 6, (n, 9), generator=g)


@pytest.mark.parametrize("kind", ["ce", "ce_seq", "mse", "nll"])
def test_unmasked_loss_and_gradient_are_bit_identical_to_an_all_ones_mask(kind: str) -> None:
    g = torch.Generator().manual_seed(0)
    for n in (1, 3, 16, 32, 100, 128, 257):
        loss_fn, pred, targets = _case(kind, n, g)
        x = pred.detach().requires_grad_()
        masked = loss_fn(x, targets, torch.ones(n))
        (grad_masked,) = torch.autograd.grad(masked, x)
        plain = loss_fn(x, targets, None)
        (grad_plain,) = torch.autograd.grad(plain, x)
        assert torch.equal(masked, plain) and torch.equal(grad_masked, grad_plain), (kind, n)
    hits = torch.rand(100, generator=g) > 0.3
    assert masked_mean(hits, None) == masked_mean(hits, torch.ones(100)) == float(hits.float().mean())


def test_masked_loss_by_hand_with_and_without_padding() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]]))
    targets = torch.tensor([0, 1, 1])
    want = -(np.log(0.5) + np.log(0.75)) / 2
    assert float(masked_cross_entropy(logits, targets, torch.tensor([1.0, 1.0, 0.0]))) == pytest.approx(want)
    assert float(masked_cross_entropy(logits[:2], targets[:2], None)) == pytest.approx(want)


def test_env_accuracy_is_the_float_numpy_mean_gives() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 7, 100, 128):
        for shape in ((n,), (n, 5)):
            pred, target = rng.integers(0, 3, shape), rng.integers(0, 3, shape)
            for real in (n, max(1, n // 3), 0):
                mask = np.arange(n) < real
                hit = (pred == target).reshape(n, -1).all(axis=1)
                want = float(hit[mask].mean()) if real else 0.0
                got = masked_accuracy(pred, target, mask)
                assert got == want and type(got) is float, (n, shape, real)


def test_task_env_keeps_no_actions_and_replays_placeholders() -> None:
    def make() -> gym.Env:
        return gym.make("rlkit/Digits-v0", batch_size=100)

    envs = SerialVectorEnv([make])
    obs = envs.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(6):  # 6 of the epoch's 15 minibatches
        obs = envs.step(rng.integers(0, 10, (1, 100))).obs
    state = envs.state_dict()
    assert state["actions"] == [[None] * 6]
    resumed = SerialVectorEnv([make])
    np.testing.assert_array_equal(resumed.load_state_dict(state), obs)
    action = rng.integers(0, 10, (1, 100))
    a, b = envs.step(action), resumed.step(action)
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.info[0]["targets"], b.info[0]["targets"])
    assert a.reward[0] == b.reward[0]


def test_softmax_resumed_mid_epoch_writes_the_same_metrics(tmp_path: Path, monkeypatch) -> None:
    args = ["agent=softmax_regression", "env=digits", "total_steps=40", "log_every=5", "eval.every=20"]
    args += ["ui=none", "num_threads=1", "device=cpu", "seed=2", "checkpoint.every=0"]
    train_in_process(tmp_path / "ref", *args)
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, SupervisedAgent, 23):  # the 8th minibatch of the second epoch
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    state = load_checkpoint(run / "checkpoints" / "latest.pt")
    assert state["runner"]["step"] == 23 and state["envs"]["actions"] == [[None] * 8]
    assert main(["train", f"resume={run}"]) == 0

    def lines(d: Path) -> list[dict]:
        rows = [json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]
        return [{k: v for k, v in r.items() if k != "time/sps"} for r in rows]

    assert lines(run) == lines(tmp_path / "ref")


CHAR = [
    "agent=char_rnn",
    "env=char_text",
    "agent.hidden=32",
    "total_steps=30",
    "log_every=10",
    "eval.every=15",
]
CHAR += ["seed=3", "device=cpu", "num_threads=1"]
CHAR_TRAIN = [  # (step, train/loss, train/bpc, train/accuracy), recorded from commit 2cb93b8
    (10, 3.475371837615967, 5.013901715373719, 0.1356249898672104),
    (20, 3.378793716430664, 4.87456893888131, 0.13437499105930328),
    (30, 3.313685655593872, 4.780637862390173, 0.15437498688697815),
]
CHAR_EVAL = [(15, 4.881940885433436, 0.13647798742138365), (30, 4.839670807786858, 0.13647798742138365)]


def test_char_rnn_metrics_are_the_ones_recorded_before(tmp_path: Path) -> None:
    train_in_process(tmp_path, *CHAR)
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train = [
        (r["step"], r["train/loss"], r["train/bpc"], r["train/accuracy"]) for r in rows if "train/loss" in r
    ]
    evals = [(r["step"], r["eval/bpc"], r["eval/accuracy"]) for r in rows if "eval/bpc" in r]
    assert [t[0] for t in train] == [10, 20, 30] and [e[0] for e in evals] == [15, 30]
    flat = [v for t in CHAR_TRAIN for v in t[1:]] + [v for e in CHAR_EVAL for v in e[1:]]
    got = [v for t in train for v in t[1:]] + [v for e in evals for v in e[1:]]
    assert got == pytest.approx(flat, rel=1e-5)  # float32 sums may differ across CPUs
