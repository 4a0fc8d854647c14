"""Sample efficiency on CartPole-v1: rlkit DQN against SB3 DQN with RL Zoo's hyperparameters, several seeds.

For each seed, each contestant trains up to `--budget` env steps and every `--eval-every` steps plays
`--eval-episodes` greedy episodes on its own env (the same evaluation function for both); it stops at the
first evaluation whose mean return is >= 475. Reported: env steps and training wall time (evaluation time
excluded) until then, and the CPU seconds of this process over the same span (`time.process_time`, less
sensitive than wall time to other jobs on a shared machine). Contestants alternate seed by seed in one
process; torch uses one thread for both.

    .venv/bin/python benchmarks/dqn_cartpole.py --seeds 0 1 2 [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial

import gymnasium as gym
import numpy as np
import torch

SOLVED = 475.0


def greedy_return(policy: Callable[[np.ndarray], int], episodes: int, seed: int) -> float:
    """Mean return of `episodes` greedy episodes on a fresh CartPole-v1."""
    env = gym.make("CartPole-v1")
    total = 0.0
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        done = False
        while not done:
            obs, r, term, trunc, _ = env.step(policy(obs))
            total += r
            done = term or trunc
    return total / episodes


def run_rlkit(seed: int, budget: int, every: int, episodes: int, overrides: tuple[str, ...] = ()) -> dict:
    """rlkit DQN with configs/experiment/dqn_cartpole.yaml, the runner's hot loop."""
    from rlkit.core.types import Transition
    from rlkit.envs.factory import make_vector_env
    from rlkit.frontend.app import build_agent
    from rlkit.frontend.compose import compose_config

    cfg = compose_config(["+experiment=dqn_cartpole", f"seed={seed}", "device=cpu", *overrides])
    envs = make_vector_env(cfg.env, 1)
    agent = build_agent(cfg, envs.single_observation_space, envs.single_action_space)
    obs, steps, train_s, train_cpu = envs.reset(seed=seed), 0, 0.0, 0.0
    while steps < budget:
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(every):
            action = agent.act(obs)
            out = envs.step(action)
            agent.observe(
                Transition(obs, action, out.reward, out.next_obs, out.terminated, out.truncated, out.info)
            )
            agent.update()
            obs = out.obs
        steps += every
        train_s += time.perf_counter() - t0
        train_cpu += time.process_time() - c0
        score = greedy_return(lambda o: int(agent.act(o[None], explore=False)[0]), episodes, 10_000 + seed)
        result = {
            "steps": steps,
            "train_s": round(train_s, 1),
            "train_cpu_s": round(train_cpu, 1),
            "eval": score,
        }
        if score >= SOLVED:
            return {"solved": True, **result}
    return {"solved": False, **result}


def run_sb3(seed: int, budget: int, every: int, episodes: int) -> dict:
    """SB3 DQN with RL Zoo's CartPole-v1 hyperparameters (hyperparams/dqn.yml)."""
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    model = DQN(
        "MlpPolicy", gym.make("CartPole-v1"), learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
        learning_starts=1_000, gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
        exploration_fraction=0.16, exploration_final_eps=0.04, policy_kwargs={"net_arch": [256, 256]},
        seed=seed, device="cpu", verbose=0,
    )  # fmt: skip
    result: dict = {"solved": False}

    class EvalStop(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.eval_s, self.t0 = 0.0, time.perf_counter()
            self.eval_cpu, self.c0 = 0.0, time.process_time()

        def _on_step(self) -> bool:
            if self.num_timesteps % every:
                return True
            t0, c0 = time.perf_counter(), time.process_time()
            score = greedy_return(
                lambda o: int(model.predict(o, deterministic=True)[0]), episodes, 10_000 + seed
            )
            self.eval_s += time.perf_counter() - t0
            self.eval_cpu += time.process_time() - c0
            result.update(steps=self.num_timesteps, eval=score)
            result["train_s"] = round(time.perf_counter() - self.t0 - self.eval_s, 1)
            result["train_cpu_s"] = round(time.process_time() - self.c0 - self.eval_cpu, 1)
            result["solved"] = score >= SOLVED
            return not result["solved"]

    model.learn(total_timesteps=budget, callback=EvalStop())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=1_000)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--out", default=None)
    parser.add_argument("--only", choices=["rlkit", "sb3"], default=None, help="run one contestant")
    parser.add_argument(
        "--rlkit", nargs="*", default=[], help="extra rlkit overrides, e.g. agent.hidden=[64,64]"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    results: dict[str, list[dict]] = {"rlkit": [], "sb3": []}
    for seed in args.seeds:
        order = [("rlkit", partial(run_rlkit, overrides=tuple(args.rlkit))), ("sb3", run_sb3)]
        order = [(name, fn) for name, fn in order if args.only in (None, name)]
        for name, fn in order if seed % 2 == 0 else order[::-1]:
            res = {"seed": seed, **fn(seed, args.budget, args.eval_every, args.eval_episodes)}
            results[name].append(res)
            print(name, json.dumps(res), flush=True)
    print(json.dumps(results, indent=2))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
