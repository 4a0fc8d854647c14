"""Models for the supervised agent, by name: the book's softmax regression, two-conv CNN and LSTM classifier.

Every builder has the signature ``build(obs_shape, out_shape, cfg) -> nn.Module`` where `obs_shape` is one
example's observation shape (no batch axis) and the module maps a float/uint8 batch (N, *obs_shape) to
(N, *out_shape): logits (N, ..., n_classes) for classification, values for regression. uint8 images are
scaled to [0, 1] inside the model (rlkit.agents.networks.ScaledInput), so data stay uint8 until then.
Sequence observations carry a validity mask as their last feature (see rlkit.envs.supervised).
To add a model: write a builder and add it to MODELS.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from rlkit.agents.networks import ScaledInput, mlp
from rlkit.core.errors import IncompatibleError


class Unflatten(nn.Module):
    """(N, prod(shape)) -> (N, *shape)."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), *self.shape)


def book_init(module: nn.Module, std: float = 0.1, bias: float = 0.1) -> None:
    """The book's initialisation: weights truncated normal (std 0.1, cut at 2 std), biases 0.1."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
            nn.init.constant_(m.bias, bias)


def softmax_regression(
    obs_shape: tuple[int, ...], out_shape: tuple[int, ...], cfg: Any, pixels: bool
) -> nn.Module:
    """y = softmax(xW + b) on the flattened input, W and b zero as in the book (softmax is in the loss)."""
    linear = nn.Linear(math.prod(obs_shape), math.prod(out_shape))
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    return ScaledInput(nn.Sequential(nn.Flatten(), linear, Unflatten(out_shape)), scale=pixels)


def mlp_classifier(
    obs_shape: tuple[int, ...], out_shape: tuple[int, ...], cfg: Any, pixels: bool
) -> nn.Module:
    """Flatten, then two hidden ReLU layers of `cfg.hidden` units (rlkit.agents.networks.mlp)."""
    body = mlp(math.prod(obs_shape), math.prod(out_shape), (cfg.hidden, cfg.hidden))
    return ScaledInput(nn.Sequential(nn.Flatten(), body, Unflatten(out_shape)), scale=pixels)


def mnist_cnn(obs_shape: tuple[int, ...], out_shape: tuple[int, ...], cfg: Any, pixels: bool) -> nn.Module:
    """The book's chapter 1 CNN: conv 5x5 32, pool 2, conv 5x5 64, pool 2, FC `hidden` (1024), dropout, FC."""
    if len(obs_shape) != 3:
        raise IncompatibleError(
            f"model 'mnist_cnn' needs image observations (channels, H, W), got {obs_shape}"
        )
    c, h, w = obs_shape
    conv = nn.Sequential(
        nn.Conv2d(c, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.Flatten(),
    )  # fmt: skip
    flat = math.ceil(math.ceil(h / 2) / 2) * math.ceil(math.ceil(w / 2) / 2) * 64
    head = nn.Sequential(
        nn.Linear(flat, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
        nn.Linear(cfg.hidden, math.prod(out_shape)), Unflatten(out_shape),
    )  # fmt: skip
    model = nn.Sequential(conv, head)
    book_init(model)
    return ScaledInput(model, scale=pixels)


class LSTMClassifier(nn.Module):
    """The book's chapter 13 model: an LSTM over the sequence, a linear layer on its last valid output."""

    def __init__(self, features: int, hidden: int, out_shape: tuple[int, ...]):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, math.prod(out_shape)), Unflatten(out_shape))

    def book_init(self) -> None:
        """The book's TensorFlow example's initialisation: the LSTM kernel glorot-uniform over
        [input, hidden] -> 4 x hidden (BasicLSTMCell's default), biases 0 but the forget gate's 1 (its
        forget_bias), and the output layer's weights and bias from N(0, 1) (tf.random_normal). With PyTorch's
        default (all uniform in +-1/sqrt(hidden)) the book's plain SGD 0.01 stays at chance for its 1M
        examples; with this it learns (benchmarks/README.md).
        """
        lstm, hidden = self.lstm, self.lstm.hidden_size
        limit = math.sqrt(6.0 / (lstm.input_size + hidden + 4 * hidden))
        with torch.no_grad():
            for weight in (lstm.weight_ih_l0, lstm.weight_hh_l0):
                nn.init.uniform_(weight, -limit, limit)
            lstm.bias_ih_l0.zero_()
            lstm.bias_hh_l0.zero_()
            lstm.bias_ih_l0[hidden : 2 * hidden] = 1.0  # PyTorch's gate order: input, forget, cell, output
            nn.init.normal_(self.head[0].weight)
            nn.init.normal_(self.head[0].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, T, features + 1), the last feature 1 on valid steps; returns (N, *out_shape)."""
        x = x.float()
        out, _ = self.lstm(x[..., :-1])  # (N, T, hidden); causal, so padding after a step cannot change it
        last = last_valid_index(x[..., -1])
        return self.head(out[torch.arange(len(x), device=x.device), last])


def last_valid_index(valid: torch.Tensor) -> torch.Tensor:
    """Index of the last valid step of each row of a (N, T) 0/1 mask (0 for an all-padding row)."""
    return (valid.sum(dim=1).long() - 1).clamp(min=0)


def lstm_classifier(
    obs_shape: tuple[int, ...], out_shape: tuple[int, ...], cfg: Any, pixels: bool
) -> nn.Module:
    """LSTMClassifier with `cfg.hidden` units; needs (time, features + mask) observations."""
    if len(obs_shape) != 2 or obs_shape[1] < 2:
        raise IncompatibleError(
            f"model 'lstm_classifier' needs sequence observations (time, features + 1 validity mask), "
            f"got {obs_shape}"
        )
    model = LSTMClassifier(obs_shape[1] - 1, cfg.hidden, out_shape)
    if getattr(cfg, "init", "torch") == "book":
        model.book_init()
    return model


def ar_linear(obs_shape: tuple[int, ...], out_shape: tuple[int, ...], cfg: Any, pixels: bool) -> nn.Module:
    """Linear autoregression (chapter 15): every forecast value is a linear function of the input window."""
    linear = nn.Linear(math.prod(obs_shape), math.prod(out_shape))
    return nn.Sequential(nn.Flatten(), linear, Unflatten(out_shape))


class LSTMForecaster(nn.Module):
    """An LSTM over the input window, relative to its last value; a linear head forecasts the offsets."""

    def __init__(self, features: int, hidden: int, out_shape: tuple[int, ...]):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, math.prod(out_shape)), Unflatten(out_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, window, features) -> (N, horizon, features); shifting x shifts the forecast equally."""
        x = x.float()
        last = x[:, -1:]
        out, _ = self.lstm(x - last)
        return self.head(out[:, -1]) + last


def lstm_forecaster(
    obs_shape: tuple[int, ...], out_shape: tuple[int, ...], cfg: Any, pixels: bool
) -> nn.Module:
    """LSTMForecaster with `cfg.hidden` units: (window, features) inputs, (horizon, features) outputs."""
    if len(obs_shape) != 2 or len(out_shape) != 2 or obs_shape[1] != out_shape[1]:
        raise IncompatibleError(
            f"model 'lstm_forecaster' needs windows (time, features) forecasting (horizon, features), got "
            f"{obs_shape} -> {out_shape}"
        )
    return LSTMForecaster(obs_shape[1], cfg.hidden, out_shape)


def cifar_cnn(obs_shape: tuple[int, ...], out_shape: tuple[int, ...], cfg: Any, pixels: bool) -> nn.Module:
    """The book's chapter 2 CNN: two (conv 5x5 64, ReLU, max-pool 3/2, LRN) blocks, FC 384, FC 192, linear.

    LRN is TF's local_response_normalization(depth_radius 4, bias 1, alpha 0.001/9, beta 0.75): PyTorch's
    size 9 window and alpha = 0.001 (PyTorch divides alpha by the size). The book pools then normalises in
    block 1 and normalises then pools in block 2; so does this. `cfg.hidden` is unused (384 and 192 fixed).
    """
    if len(obs_shape) != 3:
        raise IncompatibleError(
            f"model 'cifar_cnn' needs image observations (channels, H, W), got {obs_shape}"
        )
    c, h, w = obs_shape
    lrn = nn.LocalResponseNorm(9, alpha=0.001, beta=0.75, k=1.0)
    conv = nn.Sequential(
        nn.Conv2d(c, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), lrn,
        nn.Conv2d(64, 64, 5, padding=2), nn.ReLU(), lrn, nn.MaxPool2d(3, 2, padding=1),
        nn.Flatten(),
    )  # fmt: skip
    pooled = lambda n: (n - 1) // 2 + 1  # noqa: E731  (max-pool 3, stride 2, padding 1)
    flat = 64 * pooled(pooled(h)) * pooled(pooled(w))
    head = nn.Sequential(
        nn.Linear(flat, 384), nn.ReLU(), nn.Linear(384, 192), nn.ReLU(),
        nn.Linear(192, math.prod(out_shape)), Unflatten(out_shape),
    )  # fmt: skip
    return ScaledInput(nn.Sequential(conv, head), scale=pixels)


RANDOM_MODULES = (nn.modules.dropout._DropoutNd, nn.RReLU)  # the torch.nn layers that draw in training mode


def draws_random(model: nn.Module) -> bool:
    """Whether the model's forward pass may draw random numbers: it holds a dropout layer (any p), an RReLU or
    a recurrent layer with dropout. The agent swaps its RandomStream in around the forward pass only then
    (the swap copies torch's generator state twice, a fifth of a softmax step). A new model that samples in
    forward() by other means must hold one of these or be added here (tests/test_supervised_lazy.py checks
    that every model of MODELS that says no leaves the generator untouched)."""
    rnn_dropout = lambda m: isinstance(m, nn.RNNBase) and m.dropout > 0  # noqa: E731
    return any(isinstance(m, RANDOM_MODULES) or rnn_dropout(m) for m in model.modules())


INITS = ("torch", "book")  # agent.init: PyTorch's default, or the book's example's (lstm_classifier)

MODELS: dict[str, Callable[..., nn.Module]] = {
    "softmax_regression": softmax_regression,
    "mlp": mlp_classifier,
    "mnist_cnn": mnist_cnn,
    "lstm_classifier": lstm_classifier,
    "ar_linear": ar_linear,
    "lstm_forecaster": lstm_forecaster,
    "cifar_cnn": cifar_cnn,
}
