"""DQN throughput on Breakout: rlkit against Stable-Baselines3, same hyperparameters, alternating in turn.

Both use RL Zoo's Atari DQN settings (Adam 1e-4, buffer 100k, batch 32, train every 4 steps, one gradient
step, target every 1000 steps, Nature CNN, 4-frame stacks of 84x84 frames, one env), with learning_starts
lowered so that every measured window trains. Each contestant is built once and warmed up past
learning_starts; then windows of `--steps` env steps are timed in turn, `--rounds` times, order rotated.
rlkit is timed on the runner's hot loop (act, vector-env step, observe, update), SB3 on `model.learn`.

    .venv/bin/python benchmarks/dqn_throughput.py --steps 1000 --rounds 3 [--envs] [--out results.json]

`--envs` also measures the env alone (random actions): ale-py's native vector env against the Gymnasium
wrapper chain (rlkit's serial backend) and SB3's AtariWrapper, 1 and 4 envs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

ZOO = dict(lr=1e-4, buffer=100_000, batch=32, target=1_000, train_freq=4, grad_steps=1, final_eps=0.01)


def rlkit_contestant(
    precision: str, learning_starts: int, vector: str, num_envs: int = 1, device: str = "cpu"
) -> Callable[[int], None]:
    """Returns run(steps) that continues one rlkit DQN training on Breakout for `steps` env steps."""
    from rlkit.core.types import Transition
    from rlkit.envs.factory import make_vector_env
    from rlkit.frontend.app import build_agent
    from rlkit.frontend.compose import compose_config

    cfg = compose_config(
        [
            "agent=dqn", "env=Breakout", f"num_envs={num_envs}", f"env.kwargs.vector={vector}",
            f"device={device}",
            f"agent.lr={ZOO['lr']}", f"agent.buffer_size={ZOO['buffer']}", f"agent.batch_size={ZOO['batch']}",
            f"agent.target_update_every={ZOO['target']}", f"agent.train_freq={ZOO['train_freq']}",
            f"agent.gradient_steps={ZOO['grad_steps']}", f"agent.learning_starts={learning_starts}",
            f"agent.epsilon_final={ZOO['final_eps']}", "agent.epsilon_decay_steps=1000000",
            f"agent.precision={precision}", "agent.network=nature",
        ]
    )  # fmt: skip
    envs = make_vector_env(cfg.env, num_envs)
    agent = build_agent(cfg, envs.single_observation_space, envs.single_action_space)
    state = {"obs": envs.reset(seed=0)}

    def run(steps: int) -> None:
        obs = state["obs"]
        for _ in range(steps // num_envs):
            action = agent.act(obs)
            out = envs.step(action)
            agent.observe(
                Transition(obs, action, out.reward, out.next_obs, out.terminated, out.truncated, out.info)
            )
            agent.update()
            obs = out.obs
        state["obs"] = obs

    return run


def sb3_contestant(learning_starts: int, device: str = "cpu") -> Callable[[int], None]:
    """Returns run(steps) that continues one SB3 DQN training (Zoo's Atari setup) for `steps` env steps."""
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    env = VecFrameStack(make_atari_env("BreakoutNoFrameskip-v4", n_envs=1, seed=0), n_stack=4)
    model = DQN(
        "CnnPolicy", env, learning_rate=ZOO["lr"], buffer_size=ZOO["buffer"], batch_size=ZOO["batch"],
        learning_starts=learning_starts, target_update_interval=ZOO["target"], train_freq=ZOO["train_freq"],
        gradient_steps=ZOO["grad_steps"], exploration_fraction=0.1, exploration_final_eps=ZOO["final_eps"],
        optimize_memory_usage=False, device=device, seed=0, verbose=0,
    )  # fmt: skip
    model._total_timesteps_hint = 10_000_000

    def run(steps: int) -> None:
        model.learn(total_timesteps=steps, reset_num_timesteps=False)

    return run


def env_only(kind: str, num_envs: int, steps: int) -> float:
    """Env steps per second with random actions, the env alone."""
    rng = np.random.default_rng(0)
    if kind == "sb3":
        from stable_baselines3.common.env_util import make_atari_env
        from stable_baselines3.common.vec_env import VecFrameStack

        env = VecFrameStack(make_atari_env("BreakoutNoFrameskip-v4", n_envs=num_envs, seed=0), n_stack=4)
        env.reset()
        step = env.step
    else:
        from rlkit.envs.factory import make_vector_env
        from rlkit.frontend.compose import compose_config

        cfg = compose_config(["env=Breakout", f"env.kwargs.vector={kind}"])
        env = make_vector_env(cfg.env, num_envs)
        env.reset(seed=0)
        step = env.step
    t0 = time.perf_counter()
    for _ in range(steps // num_envs):
        step(rng.integers(0, 4, size=num_envs))
    rate = steps / (time.perf_counter() - t0)
    env.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000, help="env steps per timed window")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--learning-starts", type=int, default=500)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads for everyone")
    parser.add_argument("--vector", default="native", help="rlkit's Atari vector backend")
    parser.add_argument("--envs", action="store_true", help="also measure the envs alone")
    parser.add_argument("--device", default="cpu", help="cpu or cuda, for both contestants")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], help="rlkit contestants")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict[str, object] = {
        "device": args.device,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "rounds": args.rounds,
    }
    if args.envs:
        envs = {}
        for kind in ("native", "serial", "sb3"):
            for n in (1, 4):
                envs[f"{kind} x{n}"] = round(env_only(kind, n, 2_000), 1)
                print(f"env only {kind} x{n}: {envs[f'{kind} x{n}']} steps/s", flush=True)
        results["env_only"] = envs
    contestants = {
        f"rlkit {p}": rlkit_contestant(p, args.learning_starts, args.vector, device=args.device)
        for p in args.precisions
    }
    contestants["sb3"] = sb3_contestant(args.learning_starts, args.device)
    # the clock starts after warm-up, with learning under way and the target net updated at least once
    for run in contestants.values():
        run(args.learning_starts + 600)
        if args.threads:
            torch.set_num_threads(args.threads)  # the run's num_threads= may have changed it
    names = list(contestants)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            contestants[name](args.steps)
            times[name].append(args.steps / (time.perf_counter() - t0))
            print(f"round {r} {name}: {times[name][-1]:.1f} steps/s", flush=True)
    med = {n: statistics.median(v) for n, v in times.items()}
    results["sps"] = {
        n: {"median": round(med[n], 1), "all": [round(x, 1) for x in v]} for n, v in times.items()
    }
    for p in args.precisions:
        results[f"ratio_{p}"] = round(med[f"rlkit {p}"] / med["sb3"], 3)
    print(json.dumps(results, indent=2))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
