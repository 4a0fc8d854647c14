"""Supervised tasks: the quality each default config reaches, its time, and rlkit's speed against a bare loop.

For each task, ``rlkit train agent=<model> env=<task>`` with its default length runs in this process (the
exact config the CLI composes, ``ui=none``, ``num_threads=1``), and reports the final test accuracy
(``eval/accuracy``: every test example once) beside the book's figure. Side by side, alternating in the same
process, a bare PyTorch loop trains the same model (same init seed, optimiser, minibatches of the same
arrays, same number of steps) and scores the test split once; the ratio of median steps/s, rlkit / bare,
measures what the runner, the env protocol, logging and checkpoints cost.

    .venv/bin/python benchmarks/supervised.py                     # 3 rounds of each task
    .venv/bin/python benchmarks/supervised.py --tasks lstm --rounds 1 --out results.json

One torch thread: on a shared 2-core machine two threads are often 10-50x slower (spin-waiting).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from supervised_bare import run_bare_cifar, run_bare_word2vec  # benchmarks/, the script's folder

from rlkit.agents.char_rnn import CharRNN, masked_nll
from rlkit.agents.model_agent import masked_cross_entropy, masked_mse
from rlkit.agents.supervised import SupervisedConfig
from rlkit.agents.supervised_models import MODELS
from rlkit.envs.factory import make_env
from rlkit.frontend.app import build_runner, resolve_budget
from rlkit.frontend.compose import compose_config

SHAKESPEARE = "/work/shared/data/tinyshakespeare.txt"  # the whole file (about 1.1 MB), read by path
TASKS = {  # name: (overrides, the book's figure)
    "softmax": (["agent=softmax_regression", "env=digits"], "MNIST 0.9185 (1000 steps x 100, SGD 0.01)"),
    "cnn": (["agent=mnist_cnn", "env=digits"], "MNIST about 0.99 (20000 steps x 50, Adam 1e-4)"),
    "lstm": (["agent=lstm_classifier", "env=toy_sequences"], "0.90-0.95 after 1M examples, >0.99 after 5M"),
}
TASKS |= {  # issue 6 part B; the figure is METRIC[name] (default accuracy) of the final evaluation
    "char": (["agent=char_rnn", "env=char_text"], "no figure: generated text only (20000 steps x 32 x 50)"),
    "char_full": (
        ["agent=char_rnn", "env=char_text", f"env.kwargs.path={SHAKESPEARE}"],
        "no figure: generated text only (20000 steps x 32 x 50)",
    ),
    "ar": (["agent=ar_forecaster", "env=timeseries"], "no figure: plot only (AR, 6000 steps x 16)"),
    "lstm_ts": (
        ["agent=lstm_forecaster", "env=timeseries", "env.kwargs.series=sines"],
        "no figure: plot only (LSTM 128, 2000 steps x 4)",
    ),
}
TASKS |= {  # issue 20: their bare loops are in benchmarks/supervised_bare.py
    "cifar": (
        ["agent=cifar_cnn", "env=cifar10"],
        "stand-in, not CIFAR-10 (10 epochs x 40 x 128); CIFAR-10: ~86% at 60k steps",
    ),
    "word2vec": (["agent=word2vec", "env=word2vec"], "no figure: 10 planted synonym pairs (3000 x 128)"),
}
METRIC = {"char": "bpc", "char_full": "bpc", "ar": "mse", "lstm_ts": "mse"}
METRIC |= {"cifar": "accuracy", "word2vec": "synonym_recall_at_1"}  # the envs' headlines


def task_runner(overrides: list[str], run_dir: Path):
    """The runner the CLI builds for `overrides` (``ui=none num_threads=1`` first), writing to `run_dir`."""
    return build_runner(compose_config(["ui=none", "num_threads=1", *overrides]), run_dir)


def task_arguments(description: str, steps: int) -> argparse.Namespace:
    """--task, --steps, --rounds of the single-task benchmarks (supervised_floor.py, supervised_steps.py);
    sets torch's one thread."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--task", default="softmax", choices=list(TASKS))
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    return args


def alternate(ways: dict[str, Callable[[], float]], rounds: int, steps: int) -> None:
    """Runs every way (a measurement returning CPU seconds of `steps` steps) `rounds` times, alternating,
    and prints each one's median per step, what it adds to the "bare" way's and bare / this."""
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            cpu[name].append(way())
    bare = statistics.median(cpu["bare"])
    for name, values in cpu.items():
        med, per_round = statistics.median(values), [round(v, 3) for v in values]
        per_step, added = med / steps * 1e6, (med - bare) / steps * 1e6
        print(f"{name:9s} {per_step:7.1f} us/step  +{added:6.1f} us  bare/this {bare / med:.3f}  {per_round}")


def run_rlkit(overrides: list[str], run_dir: Path, metric: str = "accuracy") -> dict:
    """The CLI's run in-process; times runner.train() (the final evaluation included)."""
    runner = task_runner(overrides, run_dir)
    t0, c0 = time.perf_counter(), time.process_time()
    counters = runner.train()
    wall = time.perf_counter() - t0
    runner.close()
    cpu = time.process_time() - c0
    return {
        "steps": counters.step,
        "wall_s": wall,
        "cpu_s": cpu,
        "accuracy": runner.final_eval.metrics[metric],
    }


def run_bare(overrides: list[str], steps: int) -> dict:
    """A plain PyTorch loop: same model and data, shuffled minibatches, then one pass over the test set."""
    cfg = compose_config(["ui=none", *overrides])
    if cfg.agent.name == "char_rnn":
        return run_bare_char(cfg, steps)
    if cfg.agent.name in ("ar_forecaster", "lstm_forecaster"):
        return run_bare_forecast(cfg, steps)
    if cfg.agent.name == "cifar_cnn":
        return run_bare_cifar(cfg, steps)
    if cfg.agent.name == "word2vec":
        return run_bare_word2vec(cfg, steps)
    train_env, test_env = make_env(cfg.env).unwrapped, make_env(cfg.env, evaluation=True).unwrapped
    agent_cfg: SupervisedConfig = OmegaConf.to_object(cfg.agent)
    x_all, y_all, b = train_env.inputs, train_env.targets, train_env.batch_size
    torch.manual_seed(cfg.seed)
    pixels = x_all.dtype == np.uint8
    model = MODELS[agent_cfg.model](x_all.shape[1:], (len(train_env.class_names),), agent_cfg, pixels)
    opt_cls = torch.optim.Adam if agent_cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(model.parameters(), lr=agent_cfg.lr)
    t0, c0 = time.perf_counter(), time.process_time()
    model.train()
    for rows in minibatches(x_all, b, steps, cfg.seed):
        logits = model(torch.from_numpy(x_all[rows]))
        loss = masked_cross_entropy(logits, torch.from_numpy(y_all[rows]), None)  # every row real
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.inference_mode():
        x_test = test_env.inputs
        pred = torch.cat(
            [model(torch.from_numpy(x_test[i : i + b])).argmax(-1) for i in range(0, len(x_test), b)]
        )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "steps": steps,
        "wall_s": wall,
        "cpu_s": cpu,
        "accuracy": float((pred.numpy() == test_env.targets).mean()),
    }


def minibatches(x_all: np.ndarray, b: int, steps: int, seed: int):
    """`steps` shuffled minibatch row indices, a new permutation per epoch (like the train env)."""
    rng = np.random.default_rng(seed)
    order, pos = rng.permutation(len(x_all)), 0
    for _ in range(steps):
        if pos >= len(order):
            order, pos = rng.permutation(len(x_all)), 0
        yield order[pos : pos + b]
        pos += b


def run_bare_char(cfg, steps: int) -> dict:
    """A plain loop for the Char-RNN: same model, Adam, clipping and windows; test bits per char."""
    train_env, test_env = make_env(cfg.env).unwrapped, make_env(cfg.env, evaluation=True).unwrapped
    a = cfg.agent
    torch.manual_seed(cfg.seed)
    model = CharRNN(len(train_env.vocab), a.hidden, a.num_layers, a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    x_all, y_all, b = train_env.inputs, train_env.targets, train_env.batch_size
    t0, c0 = time.perf_counter(), time.process_time()
    model.train()
    for rows in minibatches(x_all, b, steps, cfg.seed):
        loss = masked_nll(model(torch.from_numpy(x_all[rows])), torch.from_numpy(y_all[rows]), None)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
        opt.step()
    model.eval()
    x_t, y_t = torch.from_numpy(test_env.inputs), torch.from_numpy(test_env.targets)
    with torch.inference_mode():
        nll = float(masked_nll(model(x_t), y_t, None))
    return {
        "steps": steps,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "accuracy": nll / math.log(2),
    }


def run_bare_forecast(cfg, steps: int) -> dict:
    """A plain loop for a forecaster: same model, optimiser and windows; test MSE."""
    train_env, test_env = make_env(cfg.env).unwrapped, make_env(cfg.env, evaluation=True).unwrapped
    agent_cfg: SupervisedConfig = OmegaConf.to_object(cfg.agent)
    x_all, y_all, b = train_env.inputs, train_env.targets, train_env.batch_size
    torch.manual_seed(cfg.seed)
    model = MODELS[agent_cfg.model](x_all.shape[1:], y_all.shape[1:], agent_cfg, False)
    opt = torch.optim.Adam(model.parameters(), lr=agent_cfg.lr)
    t0, c0 = time.perf_counter(), time.process_time()
    model.train()
    for rows in minibatches(x_all, b, steps, cfg.seed):
        loss = masked_mse(model(torch.from_numpy(x_all[rows])), torch.from_numpy(y_all[rows]), None)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.inference_mode():
        pred = model(torch.from_numpy(test_env.inputs)).numpy()
    mse = float(((pred - test_env.targets) ** 2).mean())
    return {
        "steps": steps,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "accuracy": mse,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["softmax", "cnn", "lstm"], choices=list(TASKS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=None, help="total_steps of every task")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": platform.python_version(),
    }
    results["torch"] = torch.__version__
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.tasks:
            overrides, book = TASKS[name]
            if args.steps is not None:
                overrides = [*overrides, f"total_steps={args.steps}"]
            steps = resolve_budget(compose_config(overrides))
            rows = {"rlkit": [], "bare": []}
            for r in range(args.rounds):
                order = ("rlkit", "bare") if r % 2 == 0 else ("bare", "rlkit")
                for who in order:
                    if who == "rlkit":
                        out = run_rlkit(overrides, Path(tmp) / f"{name}_{r}", METRIC.get(name, "accuracy"))
                    else:
                        out = run_bare(
                            overrides, rows["rlkit"][0]["steps"] if rows["rlkit"] else _steps(overrides)
                        )
                    rows[who].append(out)
                    print(f"{name} round {r} {who}: {out}", flush=True)
            med = {w: statistics.median(o["steps"] / o["wall_s"] for o in rows[w]) for w in rows}
            cpu = {w: statistics.median(o["steps"] / o["cpu_s"] for o in rows[w]) for w in rows}
            results[name] = {
                "overrides": overrides,
                "budget": steps,
                "book": book,
                "metric": METRIC.get(name, "accuracy"),
                "rlkit_accuracy": [o["accuracy"] for o in rows["rlkit"]],
                "bare_accuracy": [o["accuracy"] for o in rows["bare"]],
                "rlkit_wall_s": [round(o["wall_s"], 1) for o in rows["rlkit"]],
                "bare_wall_s": [round(o["wall_s"], 1) for o in rows["bare"]],
                "median_sps": {w: round(v, 1) for w, v in med.items()},
                "ratio_rlkit_over_bare": round(med["rlkit"] / med["bare"], 3),
                "per_round_ratios": [
                    round(b["wall_s"] / a["wall_s"], 3) for a, b in zip(rows["rlkit"], rows["bare"])
                ],
                "cpu_s": {w: [round(o["cpu_s"], 2) for o in rows[w]] for w in rows},
                "ratio_of_cpu_medians": round(cpu["rlkit"] / cpu["bare"], 3),
            }
            print(json.dumps(results[name], indent=1), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


def _steps(overrides: list[str]) -> int:
    """Minibatch steps of the default budget (episodes x batches per epoch when it is in epochs)."""
    cfg = compose_config(overrides)
    steps, episodes = resolve_budget(cfg)
    if steps is not None:
        return steps
    return episodes * make_env(cfg.env).unwrapped.batches_per_epoch


if __name__ == "__main__":
    main()
