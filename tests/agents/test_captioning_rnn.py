"""Issue 16 (captioning, numpy part): CS231n's CaptioningRNN on the numpy layers: numeric gradient checks of
its loss, the assignment's overfit-50-captions check, and equality with its torch twin on the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rlkit.agents.captioning_rnn import CaptioningRNN, TorchCaptioningRNN, adam, sgd, train_step
from rlkit.core.tokens import BOS, EOS, PAD
from tests.agents.test_cs231n_rnn import numeric_grad, rel_error


def captions_of(rng: np.random.Generator, n: int, vocab: int, length: int) -> np.ndarray:
    """<s> w1 ... wk </s> then padding, k in [2, length - 2], words in [4, vocab)."""
    out = np.full((n, length), PAD, dtype=np.int64)
    for i in range(n):
        k = int(rng.integers(2, length - 1))
        out[i, : k + 2] = [BOS, *rng.integers(4, vocab, size=k), EOS]
    return out


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_loss_gradients_match_numeric_gradients(cell: str) -> None:
    # the assignment's check: float64, a tiny model, every parameter
    rng = np.random.default_rng(1)
    model = CaptioningRNN(
        vocab_size=10, input_dim=5, wordvec_dim=4, hidden_dim=6, cell=cell, dtype=np.float64
    )
    model.params["W_embed"] *= 100  # word vectors of unit size: gradients well above rounding noise
    features, captions = rng.standard_normal((3, 5)), captions_of(rng, 3, 10, 6)
    loss, grads = model.loss(features, captions)
    assert loss > 0 and set(grads) == set(model.params)
    for name, param in model.params.items():
        num = numeric_grad(lambda: np.array(model.loss(features, captions)[0]), param, np.array(1.0))
        # relative to the whole array (single entries near 0 carry the differences' rounding noise)
        err = np.linalg.norm(num - grads[name]) / np.linalg.norm(num + grads[name])
        assert err < 1e-6 and rel_error(num, grads[name]) < 1e-4, name  # a wrong gradient is off by ~1


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_torch_twin_gives_the_same_scores_and_loss(cell: str) -> None:
    rng = np.random.default_rng(2)
    model = CaptioningRNN(
        vocab_size=12, input_dim=7, wordvec_dim=5, hidden_dim=8, cell=cell, dtype=np.float64
    )
    for p in model.params.values():  # non-zero biases, so a bias copied to the wrong gate would show
        p += 0.1 * rng.standard_normal(p.shape)
    features, captions = rng.standard_normal((4, 7)), captions_of(rng, 4, 12, 7)
    loss, _ = model.loss(features, captions)
    net = TorchCaptioningRNN.from_numpy(model)
    scores = net(torch.as_tensor(features), torch.as_tensor(captions[:, :-1]))
    target = torch.as_tensor(captions[:, 1:])
    torch_loss = (
        F.cross_entropy(scores.flatten(0, 1), target.flatten(), ignore_index=PAD, reduction="sum") / 4
    )
    assert torch_loss.item() == pytest.approx(loss, rel=1e-10)
    greedy = model.sample(features, max_length=6)
    h = torch.as_tensor(features)  # the torch twin decoding step by step picks the same words
    words, state = torch.full((4, 1), BOS), None
    for t in range(6):
        if state is None:
            h0 = net.proj(h)[None]
            state = (h0, torch.zeros_like(h0)) if cell == "lstm" else h0
        out, state = net.rnn(net.embed(words), state)
        words = net.vocab(out).argmax(-1)
        alive = ~np.isin(greedy[:, :t], [EOS]).any(axis=1)
        assert np.array_equal(words[alive, 0].numpy(), greedy[alive, t])


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_overfits_50_captions_and_samples_them_back(cell: str) -> None:
    # the assignment's sanity check: 50 captions, Adam 5e-3: the loss falls to near zero
    rng = np.random.default_rng(3)
    features, captions = rng.standard_normal((50, 16)), captions_of(rng, 50, 30, 12)
    model = CaptioningRNN(vocab_size=30, input_dim=16, wordvec_dim=32, hidden_dim=64, cell=cell, seed=0)
    configs: dict = {}
    first = train_step(model, features, captions, adam, configs)
    for _ in range(300):
        for k in range(0, 50, 25):
            for cfg in configs.values():
                cfg["learning_rate"] = 5e-3
            loss = train_step(model, features[k : k + 25], captions[k : k + 25], adam, configs)
    assert first > 20 and loss < 0.1
    assert np.array_equal(model.sample(features, max_length=11), captions[:, 1:])


def test_update_rules_match_hand_numbers() -> None:
    w, dw = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    assert np.allclose(sgd(w, dw, {"learning_rate": 0.1}), [0.95, -2.05])
    config = {"learning_rate": 0.1}
    # first Adam step: m_hat = dw, v_hat = dw^2, so each weight moves by lr * sign(dw) (up to eps)
    assert np.allclose(adam(w, dw, config), [0.9, -2.1]) and config["t"] == 1
