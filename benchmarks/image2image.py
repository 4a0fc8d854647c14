"""Image-to-image translation under rlkit's runner: PSNR/SSIM against the trivial baselines, x4 SR against
bicubic per held-out image, CycleGAN against an untrained generator, the runner's speed against a bare loop.

Each run is ``rlkit train agent=<agent> env=<task> ...`` in this process (the config the CLI composes,
``ui=none``, ``num_threads=1``, the env's default budget unless --epochs), reporting the final evaluation's
metrics on the held-out crops (eval/psnr, eval/ssim, eval/baseline_*). For super-resolution, each trained
model also translates the three held-out whole photographs, scored against bicubic upscaling (the input).
``--speed`` times pix2pix on colorize under the runner and in a bare PyTorch loop, alternated in one process
(benchmarks/image2image_speed.py, which also has the inpaint, x4 SR, SRCNN and CycleGAN rows).

    .venv/bin/python benchmarks/image2image.py --out /tmp/i2i_bench            # every row, default budgets
    .venv/bin/python benchmarks/image2image.py --rows sr_srcnn --epochs 5 --speed
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from image2image_speed import speed  # benchmarks/, the script's folder

from rlkit.agents.pix2pix import Pix2PixAgent
from rlkit.envs import image2image_data as data
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
    "sr_pix2pix_res": ["+experiment=pix2pix_sr"],  # round 2: the generator starts from the trivial answer
    "sr_l1_res": ["+experiment=pix2pix_sr", "agent.gan_weight=0"],
    "inpaint_pix2pix_res": ["+experiment=pix2pix_inpaint"],
    "inpaint_l1_res": ["+experiment=pix2pix_inpaint", "agent.gan_weight=0"],
    "edges_l1": ["agent=pix2pix", "env=edges2photo", "agent.gan_weight=0"],
    "colorize_pix2pix_res": ["agent=pix2pix", "env=colorize", "agent.residual=input"],
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
    if args.speed:  # the colorize row of benchmarks/image2image_speed.py (which has the other tasks' rows)
        sp = speed("colorize", args.speed_steps, args.speed_rounds)
        print(json.dumps(sp), flush=True)
        print(
            f"speed: rlkit / bare = {sp['wall_ratio']:.2f} wall, {sp['cpu_ratio']:.2f} CPU (ratio of medians)"
        )
        (args.out / "speed.json").write_text(json.dumps(sp, indent=1))


if __name__ == "__main__":
    main()
