"""The Char-RNN agent in the real runner: loss by hand, it learns a text, samples it, checkpoints, refuses."""

from __future__ import annotations

import json
import math

import pytest
import torch

from rlkit.agents.char_rnn import CharRNN, CharRNNConfig, masked_nll
from rlkit.core.errors import IncompatibleError, UserError
from rlkit.envs.char_text import generate
from rlkit.envs.factory import make_env
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config

from ..conftest import trained_runner

FAST = ("ui=none", "num_threads=1", "checkpoint.every=0", "agent.hidden=32", "agent.dropout=0.0")


@pytest.fixture
def cyclic_text(tmp_path):
    """A text whose next character is always determined by the current one."""
    path = tmp_path / "cyclic.txt"
    path.write_text("hello world, " * 200, encoding="utf-8")
    return path


def test_masked_nll_by_hand() -> None:
    logp = torch.full((2, 3, 4), math.log(0.25))
    targets, mask = torch.zeros(2, 3, dtype=torch.long), torch.tensor([1.0, 0.0])
    assert float(masked_nll(logp, targets, mask)) == pytest.approx(math.log(4))
    logp[1] = 0.0  # a masked-out row changes nothing
    assert float(masked_nll(logp, targets, mask)) == pytest.approx(math.log(4))


def test_model_outputs_log_probabilities_and_is_causal() -> None:
    torch.manual_seed(0)
    model = CharRNN(vocab=6, hidden=8, num_layers=2, dropout=0.0).eval()
    x = torch.tensor([[1, 2, 3, 0, 0]])
    out = model(x)
    assert out.shape == (1, 5, 6)
    torch.testing.assert_close(out.exp().sum(-1), torch.ones(1, 5))
    y = x.clone()
    y[0, 3:] = 5  # later characters cannot change earlier predictions
    torch.testing.assert_close(model(y)[:, :3], out[:, :3])


def test_config_errors_name_the_key() -> None:
    with pytest.raises(UserError, match=r"agent\.dropout=1\.0"):
        CharRNNConfig(dropout=1.0).validate()
    with pytest.raises(UserError, match=r"agent\.num_layers=0"):
        CharRNNConfig(num_layers=0).validate()


def test_char_rnn_learns_a_text_and_samples_it(run_dir, cyclic_text) -> None:
    overrides = (*FAST, "agent=char_rnn", "env=char_text", f"env.kwargs.path={cyclic_text}")
    runner = trained_runner(run_dir, *overrides, "env.kwargs.num_steps=20", "total_steps=120")
    metrics = runner.final_eval.metrics
    assert metrics["bpc"] < 0.5 and metrics["accuracy"] > 0.9  # uniform over 9 chars is 3.17 bits
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert any("train/bpc" in r for r in rows) and any("eval/perplexity" in r for r in rows)
    env = make_env(compose_config([*overrides, "env.kwargs.num_steps=20"]).env, "ansi", evaluation=True)
    env.reset(seed=0)
    text = generate(runner.agent, env, length=26, temperature=0.0, prime="hello")
    assert text == "hello world, hello world, hello"
    assert env.render() == text


def test_checkpoint_restores_the_model(run_dir, cyclic_text) -> None:
    overrides = [*FAST, "agent=char_rnn", "env=char_text", f"env.kwargs.path={cyclic_text}", "total_steps=5"]
    runner = trained_runner(run_dir, *overrides)
    state = runner.agent.state_dict()
    fresh = build_runner(compose_config(["ui=none", *overrides, "seed=3"]), run_dir.parent / "other")
    fresh.agent.load_state_dict(state)
    for a, b in zip(fresh.agent.model.parameters(), runner.agent.model.parameters()):
        torch.testing.assert_close(a, b)
    fresh.close()
    wide = build_runner(compose_config(["ui=none", *overrides, "agent.hidden=16"]), run_dir.parent / "wide")
    with pytest.raises(UserError, match="does not fit"):
        wide.agent.load_state_dict(state)
    wide.close()


def test_refuses_a_non_text_env(run_dir) -> None:
    with pytest.raises(IncompatibleError, match="char_text"):
        build_runner(compose_config(["ui=none", "agent=char_rnn", "env=toy_sequences"]), run_dir)
