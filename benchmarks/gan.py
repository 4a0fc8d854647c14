"""GANs under rlkit's runner: each loss x arch on the GAN tasks, final metrics, time, and a bare-loop peer.

For each (task, loss, arch), ``rlkit train agent=gan env=<task> agent.loss=<loss> agent.arch=<arch>`` runs in
this process (the config the CLI composes, ``ui=none``, ``num_threads=1``, one evaluation at the end) and
reports the final evaluation's metrics (rlkit.envs.gan_metrics) and its steps/s. With ``--bare``, the same
networks, losses, optimiser and number of steps run as a plain PyTorch loop (real minibatches drawn straight
from the data, no env, runner, logging or checkpoints) and are scored by the same env code on as many
samples; the ratio of steps/s, rlkit / bare, is what the runner costs.

    .venv/bin/python benchmarks/gan.py                                  # every pair, seed 0
    .venv/bin/python benchmarks/gan.py --tasks gaussian_ring --losses vanilla --bare --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rlkit.agents.gan import FIXED_NOISE_OFFSET, GanConfig
from rlkit.agents.gan_nets import LOSSES, build_nets, d_loss, g_loss, gradient_penalty
from rlkit.envs.factory import make_env
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config

TASKS = ("gaussian_ring", "gaussian_grid", "digits_gan")
STEPS = {"gaussian_ring": 3000, "gaussian_grid": 3000, "digits_gan": 1200}  # digits: 100 epochs


def run_rlkit(task: str, loss: str, arch: str, steps: int, seed: int) -> dict:
    """The CLI's run in-process; times runner.train() (its final evaluation included)."""
    overrides = [f"env={task}", "agent=gan", f"agent.loss={loss}", f"agent.arch={arch}", f"seed={seed}"]
    cfg = compose_config(["ui=none", "num_threads=1", f"total_steps={steps}", "eval.every=0", *overrides])
    with tempfile.TemporaryDirectory() as tmp:
        runner = build_runner(cfg, Path(tmp) / "run")
        t0 = time.perf_counter()
        runner.train()
        wall = time.perf_counter() - t0
        runner.close()
    return {"wall_s": wall, "sps": steps / wall, **runner.final_eval.metrics}


def run_bare(task: str, loss: str, arch: str, steps: int, seed: int) -> dict:
    """The same GAN as a plain PyTorch loop, scored by the evaluation env's own epoch metrics."""
    cfg = compose_config(["ui=none", f"env={task}", "agent=gan"])
    train_env, test_env = make_env(cfg.env).unwrapped, make_env(cfg.env, evaluation=True).unwrapped
    gan = GanConfig(loss=loss, arch=arch)
    lr, betas, critic_steps = gan.resolved()
    shape, b = train_env.observation_space.shape[1:], train_env.batch_size
    torch.manual_seed(seed)
    gen, disc = build_nets(arch, gan.noise_dim, shape, image=task == "digits_gan")
    g_opt = torch.optim.Adam(gen.parameters(), lr=lr, betas=betas)
    d_opt = torch.optim.Adam(disc.parameters(), lr=lr, betas=betas)
    rng = np.random.default_rng(seed)

    def real_batch() -> torch.Tensor:
        if task == "digits_gan":
            return torch.from_numpy(train_env.images[rng.integers(len(train_env.images), size=b)])
        centres = train_env.modes[rng.integers(len(train_env.modes), size=b)]
        return torch.from_numpy((centres + train_env.std * rng.standard_normal((b, 2))).astype(np.float32))

    def noise(n: int) -> torch.Tensor:
        return torch.rand(n, gan.noise_dim) * 2 - 1

    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        real = real_batch()
        with torch.no_grad():
            fake = gen(noise(b))
        loss_d = d_loss(loss, disc(real), disc(fake))
        if loss == "wgan_gp":
            loss_d = loss_d + gan.gp_weight * gradient_penalty(disc, real, fake, torch.rand(b))
        d_opt.zero_grad()
        loss_d.backward()
        d_opt.step()
        if step % critic_steps == 0:
            loss_g = g_loss(loss, disc(gen(noise(b))))
            g_opt.zero_grad()
            loss_g.backward()
            g_opt.step()
    n = test_env.batches_per_epoch * b if task != "digits_gan" else len(test_env.images)
    gen.eval()
    with torch.no_grad():
        z = torch.rand(n, gan.noise_dim, generator=torch.Generator().manual_seed(seed + FIXED_NOISE_OFFSET))
        samples = gen(z * 2 - 1).numpy()
    wall = time.perf_counter() - t0
    scores = {**test_env.batch_metrics(samples), **test_env.epoch_metrics(samples)}  # ring: high_quality too
    return {"wall_s": wall, "sps": steps / wall, **scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=LOSSES)
    parser.add_argument("--archs", nargs="+", default=["mlp", "dcgan"], choices=["mlp", "dcgan"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=None, help="env steps (default: per task, STEPS)")
    parser.add_argument("--bare", action="store_true", help="also time the bare PyTorch loop")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for task in args.tasks:
        for arch in args.archs:
            if arch == "dcgan" and task != "digits_gan":
                continue  # DCGAN is for images
            for loss in args.losses:
                for seed in args.seeds:
                    steps = args.steps or STEPS[task]
                    row = {"task": task, "loss": loss, "arch": arch, "seed": seed, "steps": steps}
                    row["rlkit"] = run_rlkit(task, loss, arch, steps, seed)
                    if args.bare:
                        row["bare"] = run_bare(task, loss, arch, steps, seed)
                        row["speed_ratio"] = row["rlkit"]["sps"] / row["bare"]["sps"]
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
