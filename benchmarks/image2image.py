"""Image-to-image translation under rlkit's runner: PSNR/SSIM against the trivial baselines, x4 SR against
bicubic per held-out image, CycleGAN against an untrained generator, the runner's speed against a bare loop.

Each run is ``rlkit train agent=<agent> env=<task> ...`` in this process (the config the CLI composes,
``ui=none``, ``num_threads=1``, the env's default budget unless --epochs), reporting the final evaluation's
metrics on the held-out crops (eval/psnr, eval/ssim, eval/baseline_*). For super-resolution, each trained
model also translates the three held-out whole photographs, scored against bicubic upscaling (the input).
``--speed`` times pix2pix steps under the runner and in a bare PyTorch loop (the same networks, losses,
optimisers and crops, no env, runner, logging or checkpoints), alternated in one process.

    .venv/bin/python benchmarks/image2image.py --out /tmp/i2i_bench            # every row, default budgets
    .venv/bin/python benchmarks/image2image.py --rows sr_srcnn --epochs 5 --speed
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rlkit.agents.pix2pix import Pix2PixAgent
from rlkit.envs import image2image_data as data
from rlkit.envs.factory import make_env
from rlkit.envs.image2image import image_scores
from rlkit.envs.image2image_pictures import chw, hwc, to_uint8
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config

ROWS = {  # name: overrides
    "colorize_pix2pix": ["agent=pix2pix", "env=colorize"],
    "colorize_l1": ["agent=pix2pix", "env=colorize", "agent.gan_weight=0"],
    "colorize_lab": ["agent=pix2pix", "env=colorize", "agent.lab=true"],
    "inpaint_pix2pix": ["agent=pix2pix", "env=inpaint"],
    "inpaint_l1": ["agent=pix2pix", "env=inpaint", "agent.gan_weight=0"],
    "edges_pix2pix": ["agent=pix2pix", "env=edges2photo"],
    "sr_pix2pix": ["agent=pix2pix", "env=super_resolution"],
    "sr_srcnn": ["agent=srcnn", "env=super_resolution"],
    "sepia_cyclegan": ["agent=cyclegan", "env=photo2sepia"],
    "sepia_untrained": ["agent=cyclegan", "env=photo2sepia", "total_steps=1", "agent.lr=1e-12"],
}


def run_row(name: str, seed: int, epochs: int | None, run_dir: Path) -> dict:
    """One training run through the runner; the final evaluation's metrics and the per-image SR scores."""
    extra = [f"total_episodes={epochs}"] if epochs and "total_steps=1" not in ROWS[name] else []
    cfg = compose_config(["ui=none", "num_threads=1", f"seed={seed}", *ROWS[name], *extra])
    runner = build_runner(cfg, run_dir)
    t0 = time.perf_counter()
    runner.train()
    wall = time.perf_counter() - t0
    runner.close()
    result = {
        "row": name,
        "seed": seed,
        "wall_s": wall,
        "steps": runner.counters.step,
        **runner.final_eval.metrics,
    }
    if name.startswith("sr_"):
        result["per_image"] = sr_per_image(runner.agent)
    return result


def sr_per_image(agent: Pix2PixAgent) -> list[dict]:
    """PSNR/SSIM of the model and of bicubic (the blurred input) on each held-out whole photograph."""
    rows = []
    for name, photo in zip(data.TEST_IMAGES, data.bundled_images("test")):
        blurred = data.blur(photo)
        out = hwc(to_uint8(agent.act(chw(blurred)[None, None], explore=False)[0, 0]))
        (m_psnr, m_ssim), (b_psnr, b_ssim) = image_scores(out, photo), image_scores(blurred, photo)
        rows.append(
            {"image": name, "psnr": m_psnr, "ssim": m_ssim, "bicubic_psnr": b_psnr, "bicubic_ssim": b_ssim}
        )
    return rows


def speed(steps: int, rounds: int) -> dict:
    """Steps/s of pix2pix (env=colorize defaults) under the runner and in a bare loop, alternated (rlkit
    first in even rounds), on wall time and on process CPU time."""
    cfg = compose_config(["ui=none", "num_threads=1", "agent=pix2pix", "env=colorize", "eval.every=0"])
    env = make_env(cfg.env).unwrapped
    out: dict = {"steps": steps, "rlkit_sps": [], "bare_sps": [], "rlkit_cpu_sps": [], "bare_cpu_sps": []}
    for r in range(rounds):
        speed_round(steps, r, out, env, bare_first=r % 2 == 1)
    return out


def speed_round(steps: int, r: int, out: dict, env, bare_first: bool) -> None:
    """One round: the runner's steps/s up to its final evaluation and the bare loop's, in the given order."""
    with tempfile.TemporaryDirectory() as tmp:
        run_cfg = compose_config(
            ["ui=none", "num_threads=1", "agent=pix2pix", "env=colorize", f"total_steps={steps}"]
            + ["eval.every=0", "checkpoint.every=0", "log_every=1000", f"seed={r}"]
        )
        runner = build_runner(run_cfg, Path(tmp) / "run")
        if bare_first:  # on the runner's networks before it trains them: the work per step is the same
            bare_sps = bare_loop(runner.agent, env, steps)
        ends: list[tuple[float, float]] = []
        final_eval = runner._evaluate  # the loop's time only: up to the final evaluation
        runner._evaluate = lambda ends=ends, final_eval=final_eval: (
            ends.append((time.perf_counter(), time.process_time())),
            final_eval(),
        )[1]
        cpu0 = time.process_time()
        runner.train()
        out["rlkit_sps"].append(steps / (ends[0][0] - runner._t0))
        out["rlkit_cpu_sps"].append(steps / (ends[0][1] - cpu0))
        runner.close()
        if not bare_first:
            bare_sps = bare_loop(runner.agent, env, steps)
    out["bare_sps"].append(bare_sps[0])
    out["bare_cpu_sps"].append(bare_sps[1])


def bare_loop(agent: Pix2PixAgent, env, steps: int) -> tuple[float, float]:
    """The same pix2pix update on the same kind of crops in a plain loop: steps/s on wall and CPU time."""
    g, d, cfg = agent.generator, agent.discriminator, agent.cfg
    g_opt = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    d_opt = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    rng = np.random.default_rng(0)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        a, b = data.random_crop_pairs(env.pairs, env.batch_size, env.crop, rng)
        x = torch.as_tensor(chw(a)).float() / 127.5 - 1
        y = torch.as_tensor(chw(b)).float() / 127.5 - 1
        fake = g(x)
        d_real, d_fake = d(torch.cat([x, y], 1)), d(torch.cat([x, fake.detach()], 1))
        d_l = 0.5 * (bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake)))
        d_opt.zero_grad()
        d_l.backward()
        d_opt.step()
        pred = d(torch.cat([x, fake], 1))
        g_l = bce(pred, torch.ones_like(pred)) + cfg.l1_weight * (fake - y).abs().mean()
        g_opt.zero_grad()
        g_l.backward()
        g_opt.step()
    return steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the env's)")
    parser.add_argument("--speed", action="store_true", help="also time the runner against a bare loop")
    parser.add_argument("--speed-steps", type=int, default=30)
    parser.add_argument("--speed-rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_image2image"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for seed in args.seeds:
        for name in args.rows:
            results.append(run_row(name, seed, args.epochs, args.out / f"{name}_seed{seed}"))
            print(json.dumps(results[-1]), flush=True)
            (args.out / "results.json").write_text(json.dumps(results, indent=1))
    if args.speed:
        sp = speed(args.speed_steps, args.speed_rounds)
        print(json.dumps(sp), flush=True)
        ratio = np.median(np.array(sp["rlkit_sps"]) / np.array(sp["bare_sps"]))
        cpu = np.median(sp["rlkit_cpu_sps"]) / np.median(sp["bare_cpu_sps"])
        print(
            f"speed: rlkit / bare = {ratio:.2f} wall (median of {len(sp['bare_sps'])} alternated rounds), "
            f"{cpu:.2f} CPU (ratio of medians)"
        )
        (args.out / "speed.json").write_text(
            json.dumps({**sp, "ratio_median": float(ratio), "cpu_ratio": float(cpu)}, indent=1)
        )


if __name__ == "__main__":
    main()
