"""What driving SB3 from rlkit's runner costs: SB3's learn() against `rlkit train agent=sb3_*`, alternated.

Both sides build the same algorithm with the same hyperparameters (RL Zoo's for CartPole-v1), the same seed
and the same number of envs, on one torch thread. The SB3 side is `make_vec_env` (DummyVecEnv + Monitor) and
`model.learn(steps)`; the rlkit side is `build_runner` + `runner.train()` (SerialVectorEnv, the adapter,
TensorBoard + metrics.jsonl logging, a final 1-episode evaluation and checkpoint; no periodic evaluation).
Model construction is outside the clock on both sides. Prints medians of steps/s and their ratio.

    .venv/bin/python benchmarks/sb3_overhead.py --algos PPO,A2C,DQN --steps 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

AGENT = {"PPO": "sb3_ppo", "A2C": "sb3_a2c", "DQN": "sb3_dqn"}
N_ENVS = {"PPO": 8, "A2C": 8, "DQN": 1}  # the Zoo's n_envs for CartPole-v1


def time_sb3(algo: str, steps: int, seed: int) -> float:
    """steps/s of SB3's own learn()."""
    import stable_baselines3
    from stable_baselines3.common.env_util import make_vec_env

    from rlkit.agents.sb3_zoo import merge_hyperparams

    hp = merge_hyperparams(algo, "CartPole-v1", True, {})
    venv = make_vec_env("CartPole-v1", n_envs=N_ENVS[algo], seed=seed)
    model = getattr(stable_baselines3, algo)("MlpPolicy", venv, seed=seed, device="cpu", **hp)
    t0 = time.perf_counter()
    model.learn(steps)
    return steps / (time.perf_counter() - t0)


def time_rlkit(algo: str, steps: int, seed: int, root: Path) -> float:
    """steps/s of `rlkit train agent=sb3_<algo>` (runner.train() only)."""
    from rlkit.frontend.app import build_runner
    from rlkit.frontend.compose import compose_config

    cfg = compose_config(
        [
            f"agent={AGENT[algo]}",
            "env=CartPole-v1",
            f"num_envs={N_ENVS[algo]}",
            f"total_steps={steps}",
            f"seed={seed}",
            "num_threads=1",
            "device=cpu",
            "ui=none",
            "eval.every=0",
            "eval.episodes=1",
            "checkpoint.every=0",
        ]
    )
    runner = build_runner(cfg, root / f"{algo}_{time.perf_counter_ns()}")
    t0 = time.perf_counter()
    try:
        runner.train()
    finally:
        elapsed = time.perf_counter() - t0
        runner.close()
    return runner.counters.step / elapsed


def main() -> None:
    """Alternates SB3 and rlkit (order swapped every round) and prints medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algos", default="PPO,A2C,DQN")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        print("| algorithm | n_envs | SB3 learn() steps/s (median) | rlkit runner steps/s (median) | ratio |")
        print("|---|---:|---:|---:|---:|")
        for algo in args.algos.split(","):
            sb3, ours = [], []
            for r in range(args.rounds):
                order = ("sb3", "rlkit") if r % 2 == 0 else ("rlkit", "sb3")
                for side in order:
                    if side == "sb3":
                        sb3.append(time_sb3(algo, args.steps, seed=r))
                    else:
                        ours.append(time_rlkit(algo, args.steps, seed=r, root=Path(tmp)))
            a, b = statistics.median(sb3), statistics.median(ours)
            print(f"| {algo} | {N_ENVS[algo]} | {a:,.0f} | {b:,.0f} | {b / a:.2f} |", flush=True)


if __name__ == "__main__":
    main()
