"""Where a whole `rlkit train` run's time goes: imports, build, evaluation, checkpoints, the training loop.

Times one run in this process, from the interpreter's start to `runner.close()` (what `rlkit train` does, less
the summary and the console), and splits `runner.train()` into evaluation, checkpoints and the loop itself:

    .venv/bin/python benchmarks/run_overhead.py agent=reinforce env=CartPole-v1 num_envs=8 total_steps=100000

prints one line: imports, total, loop, total/loop, build, train (eval, save). The overrides are those of
`rlkit train` (`ui=none num_threads=1` are added first). To compare with other code (e.g. an export of an
older commit), run it again with `PYTHONPATH=<that export>`, alternating, and compare total/loop.
"""

import time

T_START = time.perf_counter()

import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import rlkit.core.runner as runner_module  # noqa: E402
from rlkit.frontend.app import build_runner  # noqa: E402
from rlkit.frontend.compose import compose_config  # noqa: E402


def main() -> None:
    """Runs the configured training once and prints where its time went."""
    spent = {"eval": 0.0, "save": 0.0}
    runner_cls = runner_module.Runner
    original = {"eval": runner_cls._evaluate, "save": runner_cls.save}

    def timed(name: str):
        def call(self, *args, **kwargs):
            t = time.perf_counter()
            try:
                return original[name](self, *args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t

        return call

    runner_cls._evaluate, runner_cls.save = timed("eval"), timed("save")
    t0 = time.perf_counter()
    cfg = compose_config(["ui=none", "num_threads=1", *sys.argv[1:]])
    runner = build_runner(cfg, Path(tempfile.mkdtemp()) / "run")
    t1 = time.perf_counter()
    runner.train()
    t2 = time.perf_counter()
    runner.close()
    t3 = time.perf_counter()
    loop = (t2 - t1) - spent["eval"] - spent["save"]
    print(
        f"imports {t0 - T_START:.2f} total {t3 - T_START:.2f} loop {loop:.2f} "
        f"total/loop {(t3 - T_START) / loop:.2f} "
        f"build {t1 - t0:.2f} train {t2 - t1:.2f} (eval {spent['eval']:.2f} save {spent['save']:.2f}) "
        f"steps {runner.counters.step}"
    )


if __name__ == "__main__":
    main()
