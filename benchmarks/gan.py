"""GANs under rlkit's runner: each loss x arch on the GAN tasks, final metrics, time, and a bare-loop peer.

For each (task, loss, arch, seed), ``rlkit train agent=gan env=<task> agent.loss=<loss> agent.arch=<arch>``
runs in this process (the config the CLI composes, ``ui=none``, ``num_threads=1``, one evaluation at the end)
and, beside it, the same networks, losses, optimiser and number of steps as a plain PyTorch loop (real
minibatches drawn straight from the data: no env, runner, logging or checkpoints), scored by the same env
code on as many samples. The two run back to back, in alternating order (rlkit first on even seeds), and the
speed ratio is rlkit's steps/s over the bare loop's, on process CPU time (what the two cost, whatever else
runs on a shared machine) and on wall time, after an untimed warm-up epoch of each per task, arch and loss
(a process's first run of new shapes costs more, whichever side runs it: ~0.4 CPU-s on digits;
--no-warmup times it). Both run on one thread: torch's and the BLAS/OpenMP pools' (as
``num_threads=1`` sets them). DCGAN runs on images only; the 2-D tasks use 128-unit MLPs
(``agent.g_hidden=128 agent.d_hidden=128``, the size of the Unrolled-GAN/VEEGAN 2-D experiments), digits
CS231n's (G 96-1024-1024-64, D 64-256-256-1). Figures: benchmarks/figures/gan_2d.png (seed 0's samples over
the modes, one panel per task and loss) and gan_digits.png (seed 0's fixed-noise sample grid per loss and
arch); --out writes the rows as JSON.

    .venv/bin/python benchmarks/gan.py --out gan.json    # the README's table: 36 pairs of runs
    .venv/bin/python benchmarks/gan.py --steps 5          # 5x the steps of every run (quality needs it)
    .venv/bin/python benchmarks/gan.py --tasks gaussian_ring --losses lsgan --seeds 0
    .venv/bin/python benchmarks/gan.py --pools default    # the BLAS pools at one thread per core (before #14)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import threadpoolctl
import torch
from threadpoolctl import threadpool_limits

from rlkit.agents.gan import FIXED_NOISE_OFFSET, GanConfig
from rlkit.agents.gan_nets import LOSSES, build_nets, d_loss, g_loss, gradient_penalty
from rlkit.envs.factory import make_env
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config

TASKS = ("gaussian_ring", "gaussian_grid", "digits_gan")
# A budget that runs in < 15 min on the shared 2-core VM, so quality is "it trains", not a ranking (--steps)
STEPS = {"gaussian_ring": 800, "gaussian_grid": 800, "digits_gan": 72}  # digits: 6 epochs of 12 minibatches
WARMUP_STEPS = {"gaussian_ring": 100, "gaussian_grid": 100, "digits_gan": 12}  # an epoch, untimed
DCGAN_STEPS = 36  # DCGAN on 8x8 digits costs ~2x the MLP per step on a CPU: 3 epochs
SMALL_NETS = {"g_hidden": 128, "d_hidden": 128}  # the 2-D tasks
FIGURES = Path(__file__).parent / "figures"


def nets(task: str) -> dict:
    return SMALL_NETS if task != "digits_gan" else {}


def timed(fn) -> tuple[object, dict[str, float]]:
    """fn()'s result and its wall time, process CPU time and main thread's CPU time (the rest: other
    threads: BLAS/OpenMP workers, the checkpoint writer)."""
    wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
    out = fn()
    times = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    return out, {**times, "main_thread_cpu_s": time.thread_time() - main}


def run_rlkit(task: str, loss: str, arch: str, steps: int, seed: int) -> tuple[dict, np.ndarray]:
    """The CLI's run in-process; times runner.train() (its final evaluation included). Also its samples."""
    overrides = [f"env={task}", "agent=gan", f"agent.loss={loss}", f"agent.arch={arch}", f"seed={seed}"]
    overrides += [f"agent.{k}={v}" for k, v in nets(task).items()]
    cfg = compose_config(["ui=none", "num_threads=1", f"total_steps={steps}", "eval.every=0", *overrides])
    with tempfile.TemporaryDirectory() as tmp:
        runner = build_runner(cfg, Path(tmp) / "run")
        _, times = timed(runner.train)
        runner.close()
    samples = runner.agent.fixed_samples(1024 if task != "digits_gan" else 64)
    return {**times, **runner.final_eval.metrics}, samples


def run_bare(task: str, loss: str, arch: str, steps: int, seed: int) -> dict:
    """The same GAN as a plain PyTorch loop, scored by the evaluation env's own epoch metrics."""
    cfg = compose_config(["ui=none", f"env={task}", "agent=gan"])
    train_env, test_env = make_env(cfg.env).unwrapped, make_env(cfg.env, evaluation=True).unwrapped
    gan = GanConfig(loss=loss, arch=arch, **nets(task))
    lr, betas, critic_steps = gan.resolved()
    shape, b = train_env.observation_space.shape[1:], train_env.batch_size
    torch.manual_seed(seed)
    gen, disc = build_nets(arch, gan.noise_dim, shape, task == "digits_gan", gan.g_hidden, gan.d_hidden)
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

    def train_and_score() -> dict:
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
            z = torch.rand(
                n, gan.noise_dim, generator=torch.Generator().manual_seed(seed + FIXED_NOISE_OFFSET)
            )
            samples = gen(z * 2 - 1).numpy()
        return {**test_env.batch_metrics(samples), **test_env.epoch_metrics(samples)}  # ring: high_quality

    scores, times = timed(train_and_score)  # scoring included, as in rlkit's final evaluation
    return {**times, **scores}


def panel(task: str, samples: np.ndarray) -> np.ndarray:
    """The picture the env draws of these samples (scatter over the modes, or an image grid)."""
    cfg = compose_config(["ui=none", f"env={task}", "agent=gan"])
    env = make_env(cfg.env, evaluation=True).unwrapped
    return env.draw(samples)


def save_figure(
    panels: dict[tuple[str, str], np.ndarray], rows: list[str], cols: list[str], path: Path
) -> None:
    """Panels (row, col) -> RGB image as one titled figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), len(cols), figsize=(3 * len(cols), 3.2 * len(rows)), squeeze=False)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            ax = axes[i][j]
            ax.axis("off")
            if (r, c) in panels:
                ax.imshow(panels[(r, c)])
                ax.set_title(f"{r} / {c}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def quality(metrics: dict) -> str:
    """The headline metrics of one run, as a table cell."""
    if "frechet" in metrics:
        return f"{metrics['frechet']:.1f} / {metrics['classes_covered']:.0f}"
    return f"{metrics['modes_covered']:.0f} / {metrics['high_quality']:.2f}"


def table(rows: list[dict]) -> str:
    """Markdown: one line per (task, loss, arch), the seeds' values side by side, ratios as mean (min-max)."""
    lines = [
        "| task | loss | arch | steps | rlkit: modes / high-quality, or Frechet / classes (per seed) "
        "| bare loop (per seed) | CPU s per run (rlkit / bare) | of which off the main thread "
        "| speed ratio, CPU | speed ratio, wall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = lambda k: (TASKS.index(k[0]), ("mlp", "dcgan").index(k[2]), LOSSES.index(k[1]))  # noqa: E731
    keys = sorted({(r["task"], r["loss"], r["arch"]) for r in rows}, key=order)
    for task, loss, arch in keys:
        group = [r for r in rows if (r["task"], r["loss"], r["arch"]) == (task, loss, arch)]
        cpu = [np.mean([r[side]["cpu_s"] for r in group]) for side in ("rlkit", "bare")]
        off = [
            np.mean([r[s]["cpu_s"] - r[s].get("main_thread_cpu_s", np.nan) for r in group])
            for s in ("rlkit", "bare")
        ]
        ratios = [np.array([r[f"ratio_{c}"] for r in group]) for c in ("cpu", "wall")]
        cells = [f"{x.mean():.2f} ({x.min():.2f}-{x.max():.2f})" for x in ratios]
        seeds = ["; ".join(quality(r[side]) for r in group) for side in ("rlkit", "bare")]
        lines.append(
            f"| {task} | {loss} | {arch} | {group[0]['steps']:,} | {seeds[0]} | {seeds[1]} | "
            f"{cpu[0]:.1f} / {cpu[1]:.1f} | {off[0]:.2f} / {off[1]:.2f} | {cells[0]} | {cells[1]} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--losses", nargs="+", default=list(LOSSES), choices=LOSSES)
    parser.add_argument("--archs", nargs="+", default=["mlp", "dcgan"], choices=["mlp", "dcgan"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=float, default=1.0, help="multiply every task's steps by this")
    parser.add_argument("--no-warmup", action="store_true", help="time the first runs of each loss too")
    parser.add_argument("--no-figures", action="store_true", help="do not write benchmarks/figures/gan_*.png")
    parser.add_argument(
        "--pools",
        default="1",
        choices=["1", "default"],
        help="BLAS/OpenMP threads: 1 (num_threads=1 sets them) or default (one per core: before issue 14)",
    )
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    parser.add_argument("--table", default=None, help="only print the table of a JSON that --out wrote")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(Path(args.table).read_text(encoding="utf-8"))))
        return
    torch.set_num_threads(1)
    if args.pools == "default":  # as before issue 14: num_threads=1 set torch's count only
        threadpoolctl.threadpool_limits = lambda limits: None  # what rlkit's set_num_threads calls
    else:
        threadpool_limits(1)  # the BLAS/OpenMP pools as num_threads=1 sets them for rlkit's runs (issue 14)
    rows, panels_2d, panels_digits = [], {}, {}
    t0 = time.perf_counter()
    for task in args.tasks:
        for arch in args.archs:
            if arch == "dcgan" and task != "digits_gan":
                continue  # DCGAN is for images
            for loss in args.losses:
                if (
                    not args.no_warmup
                ):  # untimed: the process's first run of these shapes pays ~0.4 CPU-s more
                    run_rlkit(task, loss, arch, WARMUP_STEPS[task], 0)
                    run_bare(task, loss, arch, WARMUP_STEPS[task], 0)
                for seed in args.seeds:
                    steps = max(1, round(args.steps * (DCGAN_STEPS if arch == "dcgan" else STEPS[task])))
                    row = {"task": task, "loss": loss, "arch": arch, "seed": seed, "steps": steps}
                    if seed % 2:
                        row["bare"] = run_bare(task, loss, arch, steps, seed)
                    row["rlkit"], samples = run_rlkit(task, loss, arch, steps, seed)
                    if "bare" not in row:
                        row["bare"] = run_bare(task, loss, arch, steps, seed)
                    for clock in ("cpu", "wall"):
                        row[f"ratio_{clock}"] = row["bare"][f"{clock}_s"] / row["rlkit"][f"{clock}_s"]
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                    if seed == args.seeds[0] and not args.no_figures:
                        picture = panel(task, samples)
                        if task == "digits_gan":
                            panels_digits[(arch, loss)] = picture
                        else:
                            panels_2d[(task, loss)] = picture
    print(table(rows))
    print(f"total wall time {time.perf_counter() - t0:.0f} s", flush=True)
    if panels_2d:
        tasks = [t for t in args.tasks if t != "digits_gan"]
        save_figure(panels_2d, tasks, args.losses, FIGURES / "gan_2d.png")
    if panels_digits:
        save_figure(panels_digits, args.archs, args.losses, FIGURES / "gan_digits.png")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
