"""A bare REINFORCE loop on CartPole-v1: what any torch program pays beside its training loop.

The same algorithm and sizes as `rlkit train agent=reinforce env=CartPole-v1` (one env, 64-64 ReLU MLPs for
the policy and a value baseline, Adam 1e-3, 5 whole episodes per update, gamma 0.99, batch-normalised
advantages), written as a plain script: import torch, make the env, networks and optimizer, loop; no
evaluation, logging or checkpoints. Prints its whole time (from the interpreter's start) and its loop's, so
that whole / loop can be set beside rlkit's (benchmarks/run_overhead.py --compare runs both, alternating):

    .venv/bin/python benchmarks/bare_reinforce.py --steps 50000
"""

import time

T_START = time.perf_counter()

import argparse  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

T_IMPORTS = time.perf_counter()


def mlp(out: int) -> nn.Module:
    """4 -> 64 -> 64 -> out, ReLU (rlkit's default MLP for REINFORCE, agents/networks.py)."""
    return nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, out))


def returns_of(rewards: list[float], gamma: float = 0.99) -> list[float]:
    """Discounted returns of one episode (terminated or cut: the tail is taken as 0 here)."""
    out, running = [0.0] * len(rewards), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def main() -> None:
    """Trains for --steps env steps and prints imports, setup, loop and whole times."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=50_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    env = gym.make("CartPole-v1")
    policy, value = mlp(2), mlp(1)
    opt = torch.optim.Adam([*policy.parameters(), *value.parameters()], lr=1e-3)
    t0 = time.perf_counter()
    obs, _ = env.reset(seed=0)
    batch_obs, batch_act, batch_ret, ep_rewards, episodes = [], [], [], [], 0
    for _ in range(args.steps):
        with torch.inference_mode():
            probs = torch.softmax(policy(torch.as_tensor(obs[None])), -1)
            action = int(torch.multinomial(probs, 1))
        batch_obs.append(obs)
        batch_act.append(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        ep_rewards.append(float(reward))
        if terminated or truncated:
            batch_ret += returns_of(ep_rewards)
            ep_rewards, episodes = [], episodes + 1
            obs, _ = env.reset()
            if episodes % 5 == 0:
                x = torch.as_tensor(np.stack(batch_obs))
                g = torch.as_tensor(batch_ret, dtype=torch.float32)
                v = value(x).squeeze(-1)
                adv = g - v.detach()
                adv = (adv - adv.mean()) / (adv.std(unbiased=False) + 1e-8)
                a = torch.as_tensor(batch_act)[:, None]
                log_p = torch.log_softmax(policy(x), -1).gather(1, a).squeeze(1)
                loss = -(adv * log_p).mean() + 0.5 * ((v - g) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                batch_obs, batch_act, batch_ret = [], [], []
    t1 = time.perf_counter()
    env.close()
    whole = time.perf_counter() - T_START
    print(
        f"bare imports {T_IMPORTS - T_START:.2f} setup {t0 - T_IMPORTS:.2f} loop {t1 - t0:.2f} "
        f"total {whole:.2f} total/loop {whole / (t1 - t0):.2f} episodes {episodes}"
    )


if __name__ == "__main__":
    main()
