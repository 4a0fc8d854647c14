"""Shared helpers: run `rlkit train` in-process with exactly the config the CLI would compose."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import rlkit.core.checkpoint as checkpoint
from rlkit.core.runner import Runner
from rlkit.frontend.app import build_runner, train
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config


def read_metrics(run: Path) -> list[dict]:
    """The records of a run's metrics.jsonl, in order."""
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def train_in_process(run_dir: Path, *overrides: str) -> dict:
    """`rlkit train <overrides> ui=none` in this process; returns summary.json's content."""
    return train(compose_config(["ui=none", *overrides]), run_dir)


def trained_runner(run_dir: Path, *overrides: str) -> Runner:
    """Like train_in_process, but returns the (closed) runner so tests can look at the agent."""
    runner = build_runner(compose_config(["ui=none", *overrides]), run_dir)
    try:
        runner.train()
    finally:
        runner.close()
    return runner


def one_line_error(capsys, args: list[str]) -> str:
    """`rlkit <args>` fails with exit status 2 and one `rlkit: error:` line, which it returns."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlkit: error: ") and err.count("\n") == 1, err
    return err


@contextmanager
def ctrl_c_at_update(monkeypatch, agent_cls: type, n: int, signum: int = signal.SIGINT) -> Iterator[None]:
    """Within the block, the `n`-th call of `agent_cls.update` first sends SIGINT (what Ctrl-C sends), or
    `signum` (SIGTERM: what `kill <pid>` sends)."""
    original, calls = agent_cls.update, {"n": 0}

    def update_then_ctrl_c(self):
        calls["n"] += 1
        if calls["n"] == n:
            os.kill(os.getpid(), signum)
        return original(self)

    with monkeypatch.context() as m:
        m.setattr(agent_cls, "update", update_then_ctrl_c)
        yield


def signal_after_checkpoint_writes(monkeypatch, signum: int) -> None:
    """Every checkpoint file written from now on (rlkit.core.checkpoint.save_checkpoint) is followed at once
    by `signum` sent to this process: a Ctrl-C or `kill` in the middle of a checkpoint set's update."""
    original = checkpoint.save_checkpoint

    def save_then_signal(path, state):
        original(path, state)
        os.kill(os.getpid(), signum)

    monkeypatch.setattr(checkpoint, "save_checkpoint", save_then_signal)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A fresh run directory."""
    return tmp_path / "run"


@pytest.fixture(autouse=True)
def restore_torch_threads():
    """The run-level num_threads= (set by the front end, in-process here) sets torch's process-wide
    thread count, as do tests that call torch.set_num_threads: put it back after each test."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
