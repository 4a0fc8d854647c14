"""The supervised agent in the real runner: losses by hand, it learns, checkpoints, incompatibilities."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rlkit.agents.model_agent import masked_cross_entropy, masked_mse
from rlkit.agents.supervised_models import LSTMClassifier, last_valid_index
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import IncompatibleError, UserError

from ..conftest import train_in_process, trained_runner
from ..envs.test_supervised_envs import write_mnist

FAST = ("ui=none", "num_threads=1", "checkpoint.every=0")
TOY = (
    "env=toy_sequences",
    "env.kwargs.n_samples=256",
    "env.kwargs.batch_size=64",
    "env.eval_kwargs.n_samples=200",
)


def test_masked_losses_by_hand() -> None:
    logits = torch.zeros(3, 4)  # uniform: cross-entropy log 4 per example
    targets, mask = torch.tensor([0, 1, 2]), torch.tensor([1.0, 1.0, 0.0])
    assert float(masked_cross_entropy(logits, targets, mask)) == pytest.approx(np.log(4))
    logits[2, 0] = 100.0  # a masked-out row changes nothing
    assert float(masked_cross_entropy(logits, targets, mask)) == pytest.approx(np.log(4))
    seq_logits = torch.zeros(2, 5, 3)  # per-step targets (N, T): mean over steps, then over real examples
    assert float(
        masked_cross_entropy(seq_logits, torch.zeros(2, 5, dtype=torch.long), mask[:2])
    ) == pytest.approx(np.log(3))
    pred, target = torch.tensor([[1.0, 3.0], [0.0, 0.0]]), torch.tensor([[0.0, 1.0], [9.0, 9.0]])
    assert float(masked_mse(pred, target, torch.tensor([1.0, 0.0]))) == pytest.approx((1 + 4) / 2)


def test_lstm_reads_the_last_valid_step() -> None:
    assert last_valid_index(torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])).tolist() == [
        1,
        2,
        0,
    ]
    torch.manual_seed(0)
    model = LSTMClassifier(features=1, hidden=8, out_shape=(2,))
    x = torch.zeros(1, 6, 2)
    x[0, :3, 0] = torch.tensor([0.1, 0.2, 0.3])
    x[0, :3, 1] = 1.0
    y = x.clone()
    y[0, 3:, 0] = 0.9  # different padding values after the last valid step
    torch.testing.assert_close(model(x), model(y))
    z = x.clone()
    z[0, 2, 0] = 0.9  # the last valid value matters
    assert not torch.allclose(model(x), model(z))


def test_softmax_regression_learns_digits(run_dir) -> None:
    pytest.importorskip("sklearn")
    runner = trained_runner(run_dir, *FAST, "agent=softmax_regression", "env=digits", "total_episodes=5")
    assert runner.final_eval.metrics["accuracy"] > 0.85
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert any("train/loss" in r and "train/accuracy" in r for r in rows)
    assert any("eval/accuracy" in r for r in rows)


def test_lstm_classifier_learns_toy_sequences(run_dir) -> None:
    summary = train_in_process(run_dir, *FAST, "agent=lstm_classifier", *TOY, "total_steps=250")
    assert summary["final_eval"]["accuracy"] > 0.85  # chance is 0.5; 0.93 on this seed
    assert summary["episodes"] == 62  # 250 steps of 4 minibatches per epoch


def test_mnist_cnn_on_idx_files_checkpoints_and_resumes(tmp_path) -> None:
    (tmp_path / "data").mkdir()
    write_mnist(tmp_path / "data", n_train=30, n_test=10)
    args = (
        *FAST,
        "agent=mnist_cnn",
        "env=mnist",
        f"env.kwargs.data_dir={tmp_path / 'data'}",
        "agent.hidden=32",
    )
    runner = trained_runner(
        tmp_path / "run", *args, "env.kwargs.batch_size=8", "total_steps=16", "num_envs=2"
    )
    assert runner.counters.step == 16 and runner.counters.episodes == 4  # 2 envs x 2 epochs of 4 batches
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["agent"]
    fresh = trained_runner(tmp_path / "run2", *args, "env.kwargs.batch_size=8", "total_steps=1", "seed=5")
    fresh.agent.load_state_dict(state)
    obs = np.random.default_rng(0).integers(0, 256, (1, 8, 1, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(fresh.agent.act(obs, explore=False), runner.agent.act(obs, explore=False))
    assert fresh.agent.updates == runner.agent.updates


def test_incompatible_pairs_fail_clearly(tmp_path) -> None:
    with pytest.raises(IncompatibleError, match="tabular"):
        train_in_process(tmp_path / "a", "agent=q_learning", *TOY)
    with pytest.raises(IncompatibleError, match=r"supervised and needs a supervised task env.*CartPole-v1"):
        train_in_process(tmp_path / "b", "agent=softmax_regression", "env=CartPole-v1")
    with pytest.raises(IncompatibleError, match=r"mnist_cnn' needs image observations"):
        train_in_process(tmp_path / "c", "agent=mnist_cnn", *TOY)
    with pytest.raises(IncompatibleError, match=r"lstm_classifier' needs sequence observations"):
        write_mnist(tmp_path)
        train_in_process(
            tmp_path / "d", "agent=lstm_classifier", "env=mnist", f"env.kwargs.data_dir={tmp_path}"
        )


def test_bad_agent_values_name_the_key(tmp_path) -> None:
    with pytest.raises(
        UserError, match=r"agent.model='resnet' is invalid: it must be one of softmax_regression"
    ):
        train_in_process(tmp_path / "a", "agent=lstm_classifier", "agent.model=resnet", *TOY)
    with pytest.raises(UserError, match=r"agent.lr=-1.0 is invalid"):
        train_in_process(tmp_path / "b", "agent=lstm_classifier", "agent.lr=-1", *TOY)


def test_book_init_of_the_lstm_classifier() -> None:
    from rlkit.agents.supervised import SupervisedConfig
    from rlkit.agents.supervised_models import MODELS

    cfg = SupervisedConfig(model="lstm_classifier", optimizer="sgd", lr=0.01, init="book")
    cfg.validate()
    torch.manual_seed(0)
    model = MODELS["lstm_classifier"]((20, 2), (2,), cfg, False)
    hidden = cfg.hidden
    bias = model.lstm.bias_ih_l0 + model.lstm.bias_hh_l0
    assert torch.equal(bias[hidden : 2 * hidden], torch.ones(hidden))  # TensorFlow's forget_bias 1
    assert torch.count_nonzero(bias[:hidden]) == 0 and torch.count_nonzero(bias[2 * hidden :]) == 0
    limit = (6 / (1 + hidden + 4 * hidden)) ** 0.5  # glorot-uniform over the [input, hidden] kernel
    assert float(model.lstm.weight_hh_l0.abs().max()) <= limit
    assert float(model.head[0].weight.std()) > 0.5  # N(0, 1), not PyTorch's +-1/sqrt(64)
    with pytest.raises(UserError, match=r"agent\.init='book'.*lstm_classifier only"):
        SupervisedConfig(model="mnist_cnn", init="book").validate()
    with pytest.raises(UserError, match=r"agent\.init='tf'.*one of torch, book"):
        SupervisedConfig(init="tf").validate()
