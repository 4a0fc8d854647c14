"""Issue 12, item 11: the NaN guard watches losses and parameters; a NaN diagnostic is logged, not fatal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.divergence import DivergedError
from tests.conftest import train_in_process


def test_a_nan_diagnostic_is_logged_not_fatal(run_dir: Path, monkeypatch) -> None:
    from rlkit.agents.tabular import TabularAgent

    original = TabularAgent.update

    def nan_explained_variance(self):  # SB3's explained_variance when the returns have no variance
        return {**original(self), "explained_variance": float("nan")}

    monkeypatch.setattr(TabularAgent, "update", nan_explained_variance)
    summary = train_in_process(run_dir, "total_steps=2000", "checkpoint.every=500", "log_every=1000")
    assert summary["steps"] == 2000
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["train/explained_variance"] for r in rows if "train/explained_variance" in r] == ["nan", "nan"]


def test_a_nan_loss_still_stops_training(run_dir: Path, monkeypatch) -> None:
    from rlkit.agents.tabular import TabularAgent

    original = TabularAgent.update

    def nan_loss(self):
        return {**original(self), "value_loss": float("nan")} if self.steps >= 700 else original(self)

    monkeypatch.setattr(TabularAgent, "update", nan_loss)
    with pytest.raises(DivergedError, match=r"diverged at step 750: non-finite train/value_loss=nan"):
        train_in_process(run_dir, "total_steps=2000", "checkpoint.every=250")


def test_nan_parameters_stop_training_before_they_reach_a_checkpoint(run_dir: Path, monkeypatch) -> None:
    from rlkit.agents.tabular import TabularAgent

    original = TabularAgent.update

    def parameters_become_nan(self):  # finite metrics, but the Q-table is gone
        metrics = original(self)
        if self.steps >= 700:
            self.q[:] = float("nan")
        return {"epsilon": metrics.get("epsilon", 0.1)}

    monkeypatch.setattr(TabularAgent, "update", parameters_become_nan)
    with pytest.raises(DivergedError, match=r"diverged at step 750: non-finite agent\.q=nan/inf"):
        train_in_process(run_dir, "total_steps=2000", "checkpoint.every=250", "eval.every=0")
    assert load_checkpoint(run_dir / "checkpoints" / "latest.pt")["runner"]["step"] == 500
