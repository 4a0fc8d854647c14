"""The GAN agent's own steps against the bare loop's, without runner or env: where rlkit's gap is not.

Feeds `GanAgent.act/observe/update` minibatches of digits_gan images (the default CS231n MLPs, vanilla loss)
directly, and runs the same steps as benchmarks/gan.py's bare loop on the same images, alternating the order
each round, on process CPU time (torch on 1 thread). A ratio near 1 says the agent does the bare loop's work
and what benchmarks/gan.py measures beyond it is the runner, the env and the evaluation around it.

    .venv/bin/python benchmarks/gan_agent_step.py            # --steps 48 --rounds 6
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from rlkit.agents.gan import GanAgent, GanConfig
from rlkit.agents.gan_nets import build_nets, d_loss, g_loss
from rlkit.core.types import AgentContext, Transition
from rlkit.envs.gan import DigitsGanEnv


def agent_cpu_s(env: DigitsGanEnv, steps: int) -> float:
    """CPU seconds of `steps` act/observe/update calls of a fresh agent."""
    agent = GanAgent(GanConfig(), AgentContext(env.observation_space, env.action_space))
    rng, b = np.random.default_rng(0), env.batch_size
    batches = [env.images[rng.integers(len(env.images), size=b)][None] for _ in range(steps)]
    info, flags = [{"mask": np.ones(b, bool)}], np.zeros(1, bool)
    start = time.process_time()
    for obs in batches:
        action = agent.act(obs)
        agent.observe(Transition(obs, action, np.zeros(1), obs, flags, flags, info))
        agent.update()
    return time.process_time() - start


def bare_cpu_s(env: DigitsGanEnv, steps: int) -> float:
    """CPU seconds of `steps` steps of the bare loop (benchmarks/gan.py's) on the same kind of batches."""
    gan = GanConfig()
    lr, betas, _ = gan.resolved()
    gen, disc = build_nets(
        "mlp", gan.noise_dim, env.observation_space.shape[1:], True, gan.g_hidden, gan.d_hidden
    )
    g_opt = torch.optim.Adam(gen.parameters(), lr=lr, betas=betas)
    d_opt = torch.optim.Adam(disc.parameters(), lr=lr, betas=betas)
    rng, b = np.random.default_rng(0), env.batch_size
    batches = [torch.from_numpy(env.images[rng.integers(len(env.images), size=b)]) for _ in range(steps)]
    start = time.process_time()
    for real in batches:
        with torch.no_grad():
            fake = gen(torch.rand(b, gan.noise_dim) * 2 - 1)
        loss = d_loss("vanilla", disc(real), disc(fake))
        d_opt.zero_grad()
        loss.backward()
        d_opt.step()
        loss = g_loss("vanilla", disc(gen(torch.rand(b, gan.noise_dim) * 2 - 1)))
        g_opt.zero_grad()
        loss.backward()
        g_opt.step()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(1)
    threadpool_limits(1)  # as num_threads=1 (the runs of benchmarks/gan.py)
    env = DigitsGanEnv()
    agent, bare = [], []
    for r in range(args.rounds):
        if r % 2:
            bare.append(bare_cpu_s(env, args.steps))
        agent.append(agent_cpu_s(env, args.steps))
        if not r % 2:
            bare.append(bare_cpu_s(env, args.steps))
    print("agent CPU s per round", [round(x, 2) for x in agent])
    print("bare  CPU s per round", [round(x, 2) for x in bare])
    print("bare/agent per round", [round(b / a, 3) for a, b in zip(agent, bare)])
    print(f"ratio of medians (agent speed / bare speed): {np.median(bare) / np.median(agent):.3f}")


if __name__ == "__main__":
    main()
