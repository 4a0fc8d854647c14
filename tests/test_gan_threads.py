"""Issue 14 (GAN speed): num_threads= also limits the BLAS/OpenMP pools (numpy's OpenBLAS spun a second core
after the digits task's Frechet scoring), and a run's numbers do not depend on those pools' size."""

from __future__ import annotations

from pathlib import Path

import pytest
import threadpoolctl
from threadpoolctl import threadpool_info, threadpool_limits

from rlkit.frontend.cli import main

# The whole digits train split (1,437 images, 12 minibatches): its Frechet scoring multiplies (1437, 64)
# matrices, large enough for OpenBLAS to use its threads. Small nets keep the run to a second or two.
DIGITS = ["agent=gan", "env=digits_gan", "ui=none", "agent.noise_dim=8", "agent.g_hidden=32"]
DIGITS += ["agent.d_hidden=32", "total_steps=14", "eval.every=0", "log_every=4", "seed=3"]


@pytest.fixture(autouse=True)
def restore_pools(tmp_path: Path, monkeypatch):
    """num_threads= sets the process's pools (as torch's count): the pools' own counts come back after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with threadpool_limits(2):
        if not any(p["user_api"] == "blas" and p["num_threads"] == 2 for p in threadpool_info()):
            pytest.skip("no BLAS pool that runs 2 threads here")
        yield


def test_num_threads_limits_the_blas_and_openmp_pools(tmp_path: Path) -> None:
    assert main(["train", *DIGITS, "num_threads=1", f"hydra.run.dir={tmp_path / 'run'}"]) == 0
    pools = threadpool_info()
    assert any(p["user_api"] == "blas" for p in pools)  # numpy's OpenBLAS at least
    assert {(p["user_api"], p["filepath"], p["num_threads"]) for p in pools if p["num_threads"] != 1} == set()


def test_a_gan_runs_metrics_do_not_depend_on_the_blas_threads(tmp_path: Path, monkeypatch) -> None:
    """The same seed writes the same metrics.jsonl with the pools at 2 threads (as before issue 14's fix:
    only torch's count was set) and at 1 (num_threads= now sets them too)."""
    with monkeypatch.context() as patch:
        patch.setattr(threadpoolctl, "threadpool_limits", lambda limits: None)  # torch's count only
        assert main(["train", *DIGITS, "num_threads=1", f"hydra.run.dir={tmp_path / 'before'}"]) == 0
        assert any(p["user_api"] == "blas" and p["num_threads"] == 2 for p in threadpool_info())
    assert main(["train", *DIGITS, "num_threads=1", f"hydra.run.dir={tmp_path / 'after'}"]) == 0
    before = (tmp_path / "before" / "metrics.jsonl").read_text()
    assert "eval/frechet" in before
    assert before == (tmp_path / "after" / "metrics.jsonl").read_text()
