"""Image-to-image training speed: `rlkit train` against the same model in a bare PyTorch loop, side by side.

For each row, rounds alternate the order (rlkit first in even rounds, the bare loop first in odd ones); a
round trains `--steps` steps under the runner (its config as the CLI composes it, ``num_threads=1``, no
periodic evaluation or checkpoint, timed up to the final evaluation) and the same number of steps of the
same networks, losses, optimisers and kind of crops in a plain loop (no env, runner, logging or scoring).
Reported: steps per second of process CPU time (the ratio of the medians: robust on a shared machine) and of
wall time (the median of the per-round ratios).

    .venv/bin/python benchmarks/image2image_speed.py                      # every row
    .venv/bin/python benchmarks/image2image_speed.py --rows srcnn cyclegan --steps 16 --rounds 4
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rlkit.agents.cyclegan import CycleGanAgent, ImageHistory
from rlkit.agents.image2image_nets import hole_mask, residual_answer
from rlkit.agents.pix2pix import Pix2PixAgent
from rlkit.envs import image2image_data as data
from rlkit.envs.factory import make_env
from rlkit.envs.image2image_pictures import chw
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config

ROWS = {  # name: overrides (the configs the accuracy benchmark, benchmarks/image2image.py, trains)
    "colorize": ["agent=pix2pix", "env=colorize"],
    "inpaint": ["+experiment=pix2pix_inpaint"],
    "super_resolution": ["+experiment=pix2pix_sr"],
    "srcnn": ["agent=srcnn", "env=super_resolution"],
    "cyclegan": ["agent=cyclegan", "env=photo2sepia"],
}


def to_net(images: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(chw(images)).float() / 127.5 - 1


def bare_pix2pix(agent: Pix2PixAgent, env, steps: int) -> None:
    """pix2pix / SRCNN: the agent's networks, trained with their losses on fresh crops, in a plain loop."""
    g, d, cfg = agent.generator, agent.discriminator, agent.cfg
    betas = (cfg.beta1, cfg.beta2)
    g_opt = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=betas)
    d_opt = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=betas) if d is not None else None
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    rng = np.random.default_rng(0)
    for _ in range(steps):
        a, b = data.random_crop_pairs(env.pairs, env.batch_size, env.crop, rng)
        if env.crop_op is not None:
            a = np.stack([env.crop_op(x) for x in a])
        x, y = to_net(a), to_net(b)
        fake = g(x) if cfg.residual == "none" else residual_answer(x, g(x), cfg.residual)
        loss = 0.0
        if d is not None:
            d_real, d_fake = d(torch.cat([x, y], 1)), d(torch.cat([x, fake.detach()], 1))
            d_l = 0.5 * (bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake)))
            d_opt.zero_grad()
            d_l.backward()
            d_opt.step()
            d.requires_grad_(False)
            pred = d(torch.cat([x, fake], 1))
            d.requires_grad_(True)
            loss = cfg.gan_weight * bce(pred, torch.ones_like(pred))
        if cfg.residual == "hole":
            hole = hole_mask(x)
            l1 = ((fake - y).abs() * hole).sum() / (3 * hole.sum()).clamp(min=1)
        else:
            l1 = (fake - y).abs().mean()
        loss = loss + cfg.l1_weight * l1
        g_opt.zero_grad()
        loss.backward()
        g_opt.step()


def bare_cyclegan(agent: CycleGanAgent, env, steps: int) -> None:
    """CycleGAN: the agent's four networks, the seed's losses and 50-image histories, in a plain loop."""
    cfg, mse = agent.cfg, torch.nn.functional.mse_loss
    g_ab, g_ba, d_a, d_b = agent.g_ab, agent.g_ba, agent.d_a, agent.d_b
    betas = (cfg.beta1, cfg.beta2)
    g_opt = torch.optim.Adam([*g_ab.parameters(), *g_ba.parameters()], lr=cfg.lr, betas=betas)
    d_opts = [torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=betas) for d in (d_a, d_b)]
    rng = np.random.default_rng(0)
    histories = [ImageHistory(cfg.history, rng) for _ in range(2)]
    for _ in range(steps):
        real_a, real_b = (
            to_net(data.random_crops(images, env.batch_size, env.crop, rng))  # A, then B: the env's order
            for images in (env.a_images, env.b_images)
        )
        for d in (d_a, d_b):
            d.requires_grad_(False)
        fake_b, fake_a = g_ab(real_a), g_ba(real_b)
        rec_a, rec_b = g_ba(fake_b), g_ab(fake_a)
        p_b, p_a = d_b(fake_b), d_a(fake_a)
        gan = 0.5 * (mse(p_b, torch.ones_like(p_b)) + mse(p_a, torch.ones_like(p_a)))
        cycle = ((rec_a - real_a).abs().mean() + (rec_b - real_b).abs().mean()) / 2
        identity = ((g_ba(real_a) - real_a).abs().mean() + (g_ab(real_b) - real_b).abs().mean()) / 2
        loss = gan + cfg.cycle_weight * cycle + cfg.identity_weight * identity
        g_opt.zero_grad()
        loss.backward()
        g_opt.step()
        for d in (d_a, d_b):
            d.requires_grad_(True)
        for d, opt, real, fake, history in zip(
            (d_a, d_b), d_opts, (real_a, real_b), (fake_a, fake_b), histories
        ):
            p_real, p_fake = d(real), d(history.push_and_pop(fake))
            d_l = 0.5 * (mse(p_real, torch.ones_like(p_real)) + mse(p_fake, torch.zeros_like(p_fake)))
            opt.zero_grad()
            d_l.backward()
            opt.step()


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of fn()."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def speed_round(row: str, steps: int, seed: int, bare_first: bool) -> dict:
    """One round of a row: the runner's (wall, CPU) seconds up to its final evaluation and the bare loop's."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = compose_config(
            ["ui=none", "num_threads=1", *ROWS[row], f"total_steps={steps}", f"seed={seed}"]
            + ["eval.every=0", "checkpoint.every=0", "log_every=1000"]
        )
        env = make_env(cfg.env).unwrapped
        runner = build_runner(cfg, Path(tmp) / "run")
        bare = bare_cyclegan if row == "cyclegan" else bare_pix2pix
        out = {}
        if bare_first:  # on the runner's networks before it trains them: the work per step is the same
            out["bare"] = timed(lambda: bare(runner.agent, env, steps))
        ends: list[tuple[float, float]] = []
        final_eval = runner._evaluate  # the loop's time only: up to the final evaluation
        runner._evaluate = lambda: (ends.append((time.perf_counter(), time.process_time())), final_eval())[1]
        c0 = time.process_time()
        runner.train()
        out["rlkit"] = (ends[0][0] - runner._t0, ends[0][1] - c0)
        runner.close()
        if not bare_first:
            out["bare"] = timed(lambda: bare(runner.agent, env, steps))
    return out


def speed(row: str, steps: int, rounds: int) -> dict:
    """Alternated rounds of a row; steps/s per round and the ratios (see the module docstring)."""
    res = {
        "row": row,
        "steps": steps,
        "rlkit_sps": [],
        "bare_sps": [],
        "rlkit_cpu_sps": [],
        "bare_cpu_sps": [],
    }
    for r in range(rounds):
        times = speed_round(row, steps, r, bare_first=r % 2 == 1)
        for who in ("rlkit", "bare"):
            res[f"{who}_sps"].append(steps / times[who][0])
            res[f"{who}_cpu_sps"].append(steps / times[who][1])
    res["wall_ratios"] = [a / b for a, b in zip(res["rlkit_sps"], res["bare_sps"])]
    res["cpu_ratios"] = [a / b for a, b in zip(res["rlkit_cpu_sps"], res["bare_cpu_sps"])]
    res["wall_ratio"] = float(np.median(res["wall_ratios"]))
    res["cpu_ratio"] = float(np.median(res["rlkit_cpu_sps"]) / np.median(res["bare_cpu_sps"]))
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", default=[r for r in ROWS if r != "colorize"], choices=list(ROWS))
    parser.add_argument("--steps", type=int, default=24, help="training steps per round (each side)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_image2image/speed.json"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = []
    for row in args.rows:
        results.append(speed(row, args.steps, args.rounds))
        res = results[-1]
        print(json.dumps(res), flush=True)
        print(
            f"{row}: rlkit / bare = {res['cpu_ratio']:.2f} CPU (ratio of medians; per round "
            f"{', '.join(f'{x:.2f}' for x in res['cpu_ratios'])}), {res['wall_ratio']:.2f} wall",
            flush=True,
        )
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
