"""Detection (issue 18): mAP@0.5 on held-out scenes with and without NMS, a trivial baseline, and speed.

``rlkit train agent=detector env=shapes_detection total_steps=N`` runs in this process (the CLI's config,
``ui=none``, ``num_threads=1``, one evaluation at the end); its trained agent is then scored on the held-out
split (256 scenes never seen in training) with per-class NMS at 0.5 and without NMS (agent.nms_iou=1). A
trivial baseline answers, for every image and every class, the 64 square anchors of the middle size (one
per cell) with random scores: the chance level of the metric. Side by side in the same process, a bare
PyTorch loop trains the same network (same init seed, Adam, loss, anchor matching, minibatch size and
steps) on the same arrays; the ratios of images/s (rlkit / bare) for training (the runner's whole train()
minus its final evaluation) and for inference (an epoch of the test env through act()/step(), scored at its
end, vs the model, the same decoding + NMS and the same mAP on the arrays) measure what the runner and the
env protocol cost.

    .venv/bin/python benchmarks/detection.py --steps 600 --out /tmp/detection.json
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from supervised import minibatches  # benchmarks/, the script's folder

from rlkit.agents.detector import DetectorAgent, DetectorConfig, DetectorNet, anchor_targets, detection_loss
from rlkit.core.types import AgentContext
from rlkit.envs.detection_metrics import detection_metrics
from rlkit.envs.factory import make_env
from rlkit.frontend.app import build_runner
from rlkit.frontend.compose import compose_config

OVERRIDES = ["agent=detector", "env=shapes_detection", "ui=none", "num_threads=1", "eval.every=0"]


def score_epoch(agent, env) -> tuple[dict, float]:
    """(the epoch's metrics, images/s) of the agent's greedy detections over one epoch of `env`."""
    obs, _ = env.reset(seed=0)
    t0, images = time.perf_counter(), 0
    while True:
        obs, _, terminated, _, info = env.step(agent.act(obs[None], explore=False)[0])
        images += int(info["mask"].sum())
        if terminated:
            return info["metrics"], images / (time.perf_counter() - t0)


def run_rlkit(steps: int, seed: int) -> dict:
    """The CLI's run in-process; its agent scored on the held-out split with and without NMS."""
    cfg = compose_config([*OVERRIDES, f"total_steps={steps}", f"seed={seed}"])
    with tempfile.TemporaryDirectory() as tmp:
        runner = build_runner(cfg, Path(tmp) / "run")
        t0, c0 = time.perf_counter(), time.process_time()
        runner.train()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        runner.close()
    env = make_env(cfg.env, evaluation=True).unwrapped
    agent = runner.agent
    t_eval, c_eval = time.perf_counter(), time.process_time()
    with_nms, infer_ips = score_epoch(agent, env)
    eval_s = time.perf_counter() - t_eval  # the runner's own final evaluation is this same epoch
    eval_cpu = time.process_time() - c_eval
    agent.cfg.nms_iou = 1.0
    without_nms, _ = score_epoch(agent, env)
    batch = env.batch_size
    return {
        "train_ips": steps * batch / max(wall - eval_s, 1e-9),
        "train_cpu_ips": steps * batch / max(cpu - eval_cpu, 1e-9),
        "infer_ips": infer_ips,
        "map50_nms": with_nms["map50"],
        "map_nms": with_nms["map"],
        "map50_no_nms": without_nms["map50"],
        "map_no_nms": without_nms["map"],
    }


def run_bare(steps: int, seed: int) -> dict:
    """The same network, loss and data in a plain PyTorch loop; then the test split detected and scored."""
    cfg = compose_config([*OVERRIDES])
    train_env, test_env = make_env(cfg.env).unwrapped, make_env(cfg.env, evaluation=True).unwrapped
    dcfg = DetectorConfig()
    helper = DetectorAgent(dcfg, AgentContext(train_env.observation_space, train_env.action_space))
    torch.manual_seed(seed)
    model = DetectorNet(len(train_env.class_names), dcfg.width)
    helper.model = model  # its decoding + NMS, on this model's output
    opt = torch.optim.Adam(model.parameters(), lr=dcfg.lr)
    x, t, b = train_env.images, torch.from_numpy(train_env.targets), train_env.batch_size
    anchors = helper.anchors(*x.shape[-2:])
    t0, c0 = time.perf_counter(), time.process_time()
    model.train()
    for rows in minibatches(x, b, steps, seed):
        out = model(torch.from_numpy(x[rows]))
        pairs = [anchor_targets(anchors, t[r], dcfg.pos_iou, dcfg.neg_iou) for r in rows]
        labels, offsets = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
        loss, _ = detection_loss(out, labels, offsets, dcfg.neg_per_pos)
        opt.zero_grad()
        loss.backward()
        opt.step()
    train_ips = steps * b / (time.perf_counter() - t0)
    train_cpu_ips = steps * b / (time.process_time() - c0)
    model.eval()
    t1, dets = time.perf_counter(), []
    with torch.inference_mode():
        for i in range(0, len(test_env.images), b):
            chunk = test_env.images[i : i + b]
            dets += list(helper.detect(model(torch.from_numpy(chunk)), chunk.shape[-2:], nms=True))
    found = [d[d[:, 5] >= 0] for d in dets]
    metrics = detection_metrics(found, test_env.objects, len(test_env.class_names))
    infer_ips = len(test_env.images) / (time.perf_counter() - t1)  # scored too, as the env's epoch is
    return {
        "train_ips": train_ips,
        "train_cpu_ips": train_cpu_ips,
        "infer_ips": infer_ips,
        "map50_nms": metrics["map50"],
        "map_nms": metrics["map"],
    }


def trivial_baseline(seed: int) -> dict:
    """Every class at each cell's middle-size square anchor, random scores: the metric's chance level."""
    env = make_env(compose_config(OVERRIDES).env, evaluation=True).unwrapped
    side, n_cls = env.images.shape[-1], len(env.class_names)
    size = float(np.sqrt(DetectorConfig().anchor_min * DetectorConfig().anchor_max))
    centres = (np.arange(side // 8) + 0.5) * 8
    cx, cy = np.meshgrid(centres, centres)
    boxes = np.stack([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2], -1).reshape(-1, 4)
    rng = np.random.default_rng(seed)
    dets = []
    for _ in env.objects:
        rows = [np.c_[boxes, rng.random(len(boxes)), np.full(len(boxes), c)] for c in range(n_cls)]
        dets.append(np.concatenate(rows).astype(np.float32))
    m = detection_metrics(dets, env.objects, n_cls)
    return {"map50": m["map50"], "map": m["map"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {"cpu": platform.processor() or platform.machine(), "steps": args.steps, "runs": []}
    results["trivial"] = trivial_baseline(0)
    print("trivial baseline", results["trivial"], flush=True)
    for k, seed in enumerate(args.seeds):  # alternated: rlkit first for the 1st, 3rd, ... seed
        row: dict = {"seed": seed}
        if k % 2:
            row["bare"] = run_bare(args.steps, seed)
        row["rlkit"] = run_rlkit(args.steps, seed)
        if "bare" not in row:
            row["bare"] = run_bare(args.steps, seed)
        row["train_ratio"] = row["rlkit"]["train_ips"] / row["bare"]["train_ips"]
        row["train_cpu_ratio"] = row["rlkit"]["train_cpu_ips"] / row["bare"]["train_cpu_ips"]
        row["infer_ratio"] = row["rlkit"]["infer_ips"] / row["bare"]["infer_ips"]
        results["runs"].append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
