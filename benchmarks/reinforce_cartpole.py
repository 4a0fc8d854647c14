"""REINFORCE on CartPole-v1 (with and without the learned baseline) against Stable-Baselines3 A2C.

Contestants, each trained for the same number of env steps on 8 envs, per seed:

* ``reinforce``: ``rlkit train agent=reinforce env=CartPole-v1 num_envs=8`` (agent defaults, baseline on);
* ``reinforce_nobase``: the same with ``agent.baseline=false``;
* ``a2c``: SB3 A2C with the RL Zoo's CartPole-v1 hyperparameters (``n_envs: 8``, ``policy: MlpPolicy``,
  ``ent_coef: 0.0``, everything else SB3's defaults; the Zoo trains for 5e5 steps).

Every ``--eval-every`` env steps each contestant plays 10 greedy episodes on a separate CartPole-v1
(episode k reset with seed 1_000_003 + seed + k, as rlkit's runner does). The table reports env steps,
training episodes and training wall time (evaluation excluded) until the first greedy evaluation mean
>= 475, and the final evaluation; the figure plots the evaluation curves (mean over seeds, min-max band).
Seeds run one after another and the order of the contestants rotates with the seed, all in one process;
torch runs on one thread for all of them (the machines here are shared: more threads only spin).
Run from the repository root::

    .venv/bin/python benchmarks/reinforce_cartpole.py                  # 3 seeds x 200k steps
    .venv/bin/python benchmarks/reinforce_cartpole.py --steps 50000 --seeds 0 --out /tmp/rf.json
    .venv/bin/python benchmarks/reinforce_cartpole.py --merge s0.json s1.json s2.json   # table + plot only
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from rlkit.frontend.app import build_runner, package_versions
from rlkit.frontend.compose import compose_config

ENV_ID, TARGET, EVAL_EPISODES = "CartPole-v1", 475.0, 10
HERE = Path(__file__).resolve().parent


def run_rlkit(steps: int, seed: int, eval_every: int, extra: list[str]) -> list[dict]:
    """rlkit's REINFORCE through the real runner; evaluation time is measured and excluded."""
    overrides = ["agent=reinforce", f"env={ENV_ID}", "num_envs=8", f"total_steps={steps}", f"seed={seed}"]
    overrides += [
        "ui=none",
        f"eval.every={eval_every}",
        f"eval.episodes={EVAL_EPISODES}",
        "checkpoint.every=0",
    ]
    overrides += ["log_every=10000", *extra]
    with tempfile.TemporaryDirectory() as tmp:
        runner = build_runner(compose_config(overrides), Path(tmp) / "run")
        points, eval_time, evaluate = [], [0.0], runner._evaluate
        t0 = time.perf_counter()

        def timed_evaluate():  # wraps the runner's evaluation to record the curve and its own duration
            t = time.perf_counter()
            result = evaluate()
            eval_time[0] += time.perf_counter() - t
            c = runner.counters
            wall = time.perf_counter() - t0 - eval_time[0]
            if points and points[-1]["steps"] == c.step:  # the final evaluation repeats the last periodic one
                points.pop()
            points.append(
                {"steps": c.step, "episodes": c.episodes, "wall_s": wall, "eval": result.return_mean}
            )
            return result

        runner._evaluate = timed_evaluate
        try:
            runner.train()
        finally:
            runner.close()
    return points


def greedy_eval_sb3(model, seed: int) -> float:
    """Mean return of greedy episodes on a fresh env, seeded as rlkit's runner seeds its evaluation."""
    env, returns = gym.make(ENV_ID), []
    for k in range(EVAL_EPISODES):
        obs, _ = env.reset(seed=seed + 1_000_003 + k)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def run_a2c(steps: int, seed: int, eval_every: int) -> list[dict]:
    """SB3 A2C with the Zoo's CartPole-v1 settings, trained in eval_every chunks (evaluation not timed)."""
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env

    t0 = time.perf_counter()
    envs = make_vec_env(ENV_ID, n_envs=8, seed=seed)
    model = A2C("MlpPolicy", envs, ent_coef=0.0, seed=seed, device="cpu")
    points, wall, done = [], time.perf_counter() - t0, 0
    while done < steps:
        t = time.perf_counter()
        model.learn(total_timesteps=eval_every, reset_num_timesteps=False)
        wall += time.perf_counter() - t
        done = model.num_timesteps
        episodes = sum(len(r) for r in envs.env_method("get_episode_rewards"))
        points.append(
            {"steps": done, "episodes": episodes, "wall_s": wall, "eval": greedy_eval_sb3(model, seed)}
        )
    envs.close()
    return points


CONTESTANTS = {
    "reinforce": lambda steps, seed, every: run_rlkit(steps, seed, every, []),
    "reinforce_nobase": lambda steps, seed, every: run_rlkit(steps, seed, every, ["agent.baseline=false"]),
    "a2c": run_a2c,
}


def first_reach(points: list[dict]) -> dict | None:
    """The first evaluation point at or above the target, or None."""
    return next((p for p in points if p["eval"] >= TARGET), None)


def summarize(results: dict[str, dict[int, list[dict]]]) -> list[str]:
    """Markdown table rows: per contestant, medians over the seeds that reached the target."""
    rows = [
        "| contestant | seeds reaching 475 | env steps to 475 (median) | episodes | wall s (median) "
        "| final eval (mean over seeds) | per seed: steps to 475 |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, by_seed in results.items():
        hits = {s: first_reach(p) for s, p in by_seed.items()}
        ok = [h for h in hits.values() if h]
        med = {k: f"{statistics.median(h[k] for h in ok):,.0f}" if ok else "-" for k in ("steps", "episodes")}
        final = np.mean([p[-1]["eval"] for p in by_seed.values()])
        per_seed = ", ".join(f"{h['steps']:,}" if h else "never" for h in hits.values())
        wall = f"{statistics.median(h['wall_s'] for h in ok):.1f}" if ok else "-"
        rows.append(f"| {name} | {len(ok)}/{len(hits)} | {med['steps']} | {med['episodes']} | {wall} | "
                    f"{final:.1f} | {per_seed} |")  # fmt: skip
    return rows


def plot(results: dict[str, dict[int, list[dict]]], path: Path) -> None:
    """Greedy evaluation return against env steps: mean over seeds with a min-max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, by_seed in results.items():
        n = min(len(p) for p in by_seed.values())
        steps = [p["steps"] for p in next(iter(by_seed.values()))[:n]]
        evals = np.array([[p["eval"] for p in pts[:n]] for pts in by_seed.values()])
        ax.plot(steps, evals.mean(0), label=name)
        ax.fill_between(steps, evals.min(0), evals.max(0), alpha=0.2)
    ax.axhline(TARGET, color="grey", linestyle="--", linewidth=1)
    ax.set(
        xlabel="env steps", ylabel="greedy eval return (10 episodes)", title=f"{ENV_ID}, {len(by_seed)} seeds"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    """Runs every contestant on every seed, prints the table, saves the JSON and the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", choices=sorted(CONTESTANTS), default=list(CONTESTANTS))
    parser.add_argument("--out", type=Path, default=HERE / "reinforce_cartpole.json")
    parser.add_argument("--plot", type=Path, default=HERE / "reinforce_cartpole.png")
    parser.add_argument(
        "--merge", type=Path, nargs="+", help="only merge these JSON outputs (e.g. one per seed)"
    )
    args = parser.parse_args()
    if args.merge:
        results = {}
        for path in args.merge:
            for name, by_seed in json.loads(path.read_text())["results"].items():
                results.setdefault(name, {}).update({int(k): v for k, v in by_seed.items()})
        print("\n".join(summarize(results)))
        plot(results, args.plot)
        return
    torch.set_num_threads(1)
    results: dict[str, dict[int, list[dict]]] = {name: {} for name in args.only}
    for i, seed in enumerate(args.seeds):
        order = args.only[i % len(args.only) :] + args.only[: i % len(args.only)]
        for name in order:
            t = time.perf_counter()
            results[name][seed] = CONTESTANTS[name](args.steps, seed, args.eval_every)
            reach = first_reach(results[name][seed])
            final = results[name][seed][-1]["eval"]
            at = reach["steps"] if reach else "never"
            took = time.perf_counter() - t
            print(f"seed {seed} {name}: {took:.0f} s, first >= 475 at {at}, final {final:.1f}", flush=True)
    print("\n".join(summarize(results)))
    meta = {
        "args": vars(args) | {"out": str(args.out), "plot": str(args.plot)},
        "versions": package_versions(),
    }
    args.out.write_text(json.dumps({**meta, "results": results}, indent=1))
    plot(results, args.plot)
    print(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
