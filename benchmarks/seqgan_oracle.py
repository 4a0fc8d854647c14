"""SeqGAN's synthetic experiment (the paper's Table 1): NLL_oracle of a random generator, MLE and SeqGAN.

For each seed, on env=seqgan_oracle at the paper's sizes (vocabulary 5,000, length 20, 10,000 sequences;
the oracle is the same for every seed, `--oracle-seed`), one agent=seqgan pre-trains its generator by MLE for
`--pretrain` epochs; from that state (a state_dict copy, so both start from the same generator, as in the
paper) the SeqGAN agent goes on with `--d-pretrain` discriminator epochs and `--adv-steps` adversarial env
steps, and the MLE baseline (agent.adversarial=false) with MLE for as many env steps. Each is then scored
like an rlkit evaluation: NLL_oracle (nats per token) of `--samples` sequences from its generator.
"random" scores uniformly random tokens. The agents are driven by the runner's loop (act, env.step, observe,
update) written out here so that the pre-training is shared; `rlkit train agent=seqgan env=seqgan_oracle`
runs the same agent.

    .venv/bin/python benchmarks/seqgan_oracle.py --pretrain 5 --d-pretrain 1 --adv-steps 150 \\
        --set d_lr=1e-3                 # benchmarks/README.md's first table (~20 min a seed, shared CPU)
    .venv/bin/python benchmarks/seqgan_oracle.py --pretrain 120 --d-pretrain 10 --adv-steps 3000 \\
        --samples 10000 --filter-scale 1  # the paper's code's budget (200 rounds): days on a 2-core CPU
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from rlkit.agents.seqgan import SeqGanAgent, SeqGanConfig
from rlkit.core.types import AgentContext, Transition
from rlkit.envs.seqgan_oracle import SeqGanOracleEnv

PAPER = {"random": 10.310, "mle": 9.038, "seqgan": 8.736}  # Table 1 (different oracle weights)


def run_steps(agent: SeqGanAgent, env: SeqGanOracleEnv, steps: int, seed: int) -> dict:
    """`steps` training env steps as the runner takes them (epochs end, envs reset with seed, seed + 1,
    ...); returns the metrics of the last update."""
    obs, _ = env.reset(seed=seed)
    metrics = {}
    for _ in range(steps):
        action = agent.act(obs[None])[0]
        next_obs, reward, done, _, info = env.step(action)
        agent.observe(
            Transition(
                obs[None],
                action[None],
                np.array([reward]),
                next_obs[None],
                np.array([done]),
                np.array([False]),
                [info],
            )
        )
        metrics = agent.update() or metrics
        obs = next_obs
        if done:
            seed += 1
            obs, _ = env.reset(seed=seed)
    return {k: round(v, 4) for k, v in metrics.items()}


def nll_oracle(agent: SeqGanAgent, env: SeqGanOracleEnv, n: int) -> float:
    """NLL_oracle (nats/token) of n greedy-mode samples (an evaluation's fixed-seed sequence)."""
    obs = np.zeros((1, n, env.length), dtype=np.int64)
    return float(env.oracle.nll(agent.act(obs, explore=False)[0]).mean())


def overrides(pairs: list[str]) -> dict:
    """SeqGanConfig fields from key=value strings, each converted to its default's type."""
    defaults = SeqGanConfig()
    out = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        kind = type(getattr(defaults, key))
        out[key] = value.lower() in ("1", "true") if kind is bool else kind(value)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--pretrain", type=int, default=4, help="MLE epochs shared by both")
    p.add_argument("--d-pretrain", type=int, default=1, help="SeqGAN's discriminator epochs")
    p.add_argument("--adv-steps", type=int, default=157, help="SeqGAN's adversarial env steps")
    p.add_argument("--samples", type=int, default=2000, help="generated sequences scored")
    p.add_argument("--filter-scale", type=float, default=0.1, help="x the paper's filter counts")
    p.add_argument("--set", nargs="*", default=[], help="agent settings, e.g. d_lr=1e-3 rollouts=8")
    p.add_argument("--preset", default="paper")
    p.add_argument("--oracle-seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args()
    torch.set_num_threads(1)
    env = SeqGanOracleEnv(preset=args.preset, oracle_seed=args.oracle_seed)
    per_epoch = env.batches_per_epoch
    more = args.d_pretrain * per_epoch + args.adv_steps  # env steps after pre-training, the same for both
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        ctx = AgentContext(env.observation_space, env.action_space, seed=seed, agent_name="seqgan")
        cfg = dict(
            pretrain_epochs=args.pretrain, d_pretrain_epochs=args.d_pretrain, filter_scale=args.filter_scale
        )
        cfg.update(overrides(args.set))
        seqgan = SeqGanAgent(SeqGanConfig(**cfg), ctx)
        pre = run_steps(seqgan, env, args.pretrain * per_epoch, 1000 * seed)
        mle = SeqGanAgent(SeqGanConfig(adversarial=False, **cfg), ctx)
        mle.load_state_dict(seqgan.state_dict())
        row = {"seed": seed, "random": env.random_nll(args.samples, seed)}
        row.update(pretrained=nll_oracle(mle, env, args.samples), last_mle_loss=pre.get("mle_loss"))
        t1 = time.perf_counter()
        print(json.dumps({**row, "pretrain_s": t1 - t0}), flush=True)
        adv = run_steps(seqgan, env, more, 1000 * seed + args.pretrain)
        row.update(seqgan=nll_oracle(seqgan, env, args.samples), seqgan_metrics=adv)
        row.update(pg_steps=-(-seqgan.adv_steps // (seqgan.cfg.d_steps * seqgan.cfg.k)) * seqgan.cfg.g_steps)
        t2 = time.perf_counter()
        print(json.dumps({**row, "seqgan_s": t2 - t1}), flush=True)
        run_steps(mle, env, more, 1000 * seed + args.pretrain)
        row.update(mle=nll_oracle(mle, env, args.samples))
        row.update(wall_s={"pretrain": t1 - t0, "seqgan": t2 - t1, "mle": time.perf_counter() - t2})
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(
        f"\n| seed | random | MLE pre-trained ({args.pretrain} ep) | MLE (+{more} steps) "
        f"| SeqGAN (+{more} steps) |"
    )
    print("|---|---|---|---|---|")
    keys = ("random", "pretrained", "mle", "seqgan")
    for r in rows:
        print(f"| {r['seed']} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    print("| mean | " + " | ".join(f"{mean[k]:.3f}" for k in keys) + " |")
    print(f"| paper Table 1 | {PAPER['random']:.3f} | | {PAPER['mle']:.3f} | {PAPER['seqgan']:.3f} |")
    wins = sum(r["seqgan"] < r["mle"] for r in rows)
    print(f"\nSeqGAN below MLE on {wins}/{len(rows)} seeds")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "rows": rows, "mean": mean}, f, indent=1)


if __name__ == "__main__":
    main()
