"""The book's CIFAR-10 CNN under the supervised agent: shapes, and it learns the offline stand-in."""

from __future__ import annotations

import pytest
import torch

from rlkit.agents.supervised_models import cifar_cnn
from rlkit.core.errors import IncompatibleError

from ..conftest import train_in_process

FAST = ("ui=none", "num_threads=1", "checkpoint.every=0", "agent=cifar_cnn", "env=cifar10")


def test_cnn_shapes_and_refusal() -> None:
    torch.manual_seed(0)
    model = cifar_cnn((3, 24, 24), (10,), None, False)
    assert model(torch.zeros(2, 3, 24, 24)).shape == (2, 10)
    assert cifar_cnn((3, 32, 32), (10,), None, False)(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    with pytest.raises(IncompatibleError, match="cifar_cnn"):
        cifar_cnn((20, 2), (10,), None, False)


def test_cifar_cnn_learns_the_stand_in(run_dir) -> None:
    summary = train_in_process(
        run_dir,
        *FAST,
        "env.kwargs.n_samples=480",
        "env.kwargs.batch_size=16",
        "env.eval_kwargs.n_samples=160",
        "total_steps=45",
    )
    assert summary["final_eval"]["accuracy"] > 0.3  # chance is 0.1
