"""Where a whole `rlkit train` run's time goes: imports, compose, build, evaluation, checkpoints, the loop.

Runs `rlkit train <overrides>` in this process through the CLI itself (rlkit.frontend.cli.main: Hydra, the run
directory, the summary), from the interpreter's start to summary.json, and splits `runner.train()` into
evaluation, checkpoints and the training loop itself:

    .venv/bin/python benchmarks/run_overhead.py agent=reinforce env=CartPole-v1

prints one line: imports, total (to summary.json), loop, total/loop, then build (app.build_runner: envs,
agent, loggers), train (eval, save), close. `ui=none num_threads=1` are added first and the run goes to a
temporary directory. To compare with other code (e.g. an export of an older commit), run it again with
`PYTHONPATH=<that export>`, alternating, and compare total/loop.

    .venv/bin/python benchmarks/run_overhead.py --compare 3 agent=reinforce env=CartPole-v1

runs 3 rounds, each this script and benchmarks/bare_reinforce.py (the same algorithm as a plain torch script,
for the same steps) in fresh processes, alternating, and adds each process's wall time from spawn to exit.
"""

import time

T_START = time.perf_counter()

import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import rlkit.core.runner as runner_module  # noqa: E402
import rlkit.frontend.app as app_module  # noqa: E402
from rlkit.frontend.cli import main as rlkit_main  # noqa: E402

HERE = Path(__file__).resolve().parent


def timed(owner: object, name: str, spent: dict[str, float]) -> None:
    """Wraps owner.<name> so that the time spent in it is added to spent[name]."""
    original = getattr(owner, name)

    def call(*args, **kwargs):
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - t

    setattr(owner, name, call)


def one_run(overrides: list[str]) -> None:
    """Runs `rlkit train` once in this process and prints where its time went."""
    spent = dict.fromkeys(["build_runner", "train", "_evaluate", "save", "close"], 0.0)
    runner_cls = runner_module.Runner
    for name in ("train", "_evaluate", "save", "close"):
        timed(runner_cls, name, spent)
    timed(app_module, "build_runner", spent)
    run_dir = Path(tempfile.mkdtemp()) / "run"
    t0 = time.perf_counter()
    code = rlkit_main(["train", "ui=none", "num_threads=1", f"hydra.run.dir={run_dir}", *overrides])
    t1 = time.perf_counter()
    assert code == 0 and (run_dir / "summary.json").is_file(), f"rlkit train failed ({code})"
    loop = spent["train"] - spent["_evaluate"] - spent["save"]
    total = t1 - T_START
    print(
        f"imports {t0 - T_START:.2f} total {total:.2f} loop {loop:.2f} total/loop {total / loop:.2f} "
        f"build {spent['build_runner']:.2f} train {spent['train']:.2f} (eval {spent['_evaluate']:.2f} "
        f"save {spent['save']:.2f}) close {spent['close']:.2f} "
        f"other {total - (t0 - T_START) - spent['build_runner'] - spent['train'] - spent['close']:.2f}",
        flush=True,
    )


def field(line: str, key: str) -> float:
    """The number after `key` in a printed line."""
    words = line.split()
    return float(words[words.index(key) + 1])


def compare(rounds: int, overrides: list[str]) -> None:
    """Alternates this script and bare_reinforce.py in fresh processes; prints each line and the medians."""
    steps = next((o.partition("=")[2] for o in overrides if o.startswith("total_steps=")), "50000")
    commands = {
        "rlkit": [sys.executable, __file__, *overrides],
        "bare": [sys.executable, str(HERE / "bare_reinforce.py"), "--steps", steps],
    }
    rows: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for r in range(rounds):
        for name, cmd in commands.items() if r % 2 == 0 else reversed(commands.items()):
            t = time.perf_counter()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
            out = out.splitlines()[-1]
            wall = time.perf_counter() - t
            rows[name].append((wall / field(out, "loop"), field(out, "total/loop")))
            print(f"round {r} {name}: process {wall:.2f} s, process/loop {rows[name][-1][0]:.2f}; {out}")
    for name, values in rows.items():
        print(
            f"{name}: median total/loop {statistics.median(v[1] for v in values):.2f}, "
            f"median process/loop {statistics.median(v[0] for v in values):.2f} ({rounds} rounds)"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--compare"]:
        compare(int(sys.argv[2]), sys.argv[3:])
    else:
        one_run(sys.argv[1:])
