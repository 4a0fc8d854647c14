"""Atari replay memory and speed: rlkit's FrameReplayBuffer against Stable-Baselines3's ReplayBuffer.

Memory (default part): each contestant is allocated and filled with random 84x84 frames in a fresh
subprocess, which reports its peak resident memory (VmHWM in /proc/self/status). rlkit's buffer is measured at
the full 1,000,000 transitions. SB3's `ReplayBuffer(optimize_memory_usage=True)` needs about 28 GB at 1M,
more than this machine has, so it is measured filled at `--sb3-size` transitions and its 1M size is computed
from its array shapes (as its own memory warning computes it); the naive obs + next_obs buffer is computed.

Speed (`--part speed`): add() of one (4, 84, 84) uint8 transition and sample(32), both buffers prefilled to
`--speed-capacity`, contestants alternating within one process, medians of per-round medians.

    .venv/bin/python benchmarks/replay_memory.py                    # memory, 1M transitions
    .venv/bin/python benchmarks/replay_memory.py --part speed       # add / sample timings vs SB3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

STACK = (4, 84, 84)
OBS_SPACE = gym.spaces.Box(0, 255, STACK, np.uint8)
ACTION_SPACE = gym.spaces.Discrete(4)
MEAN_EPISODE = 500  # agent steps; Atari episodes of a learning agent are hundreds to thousands of steps


def vm_kib(field: str) -> int:
    """A VmRSS / VmHWM line of /proc/self/status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


class FrameSource:
    """Random frames, stacks that roll one frame a step, and episode ends about every MEAN_EPISODE steps."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.pool = self.rng.integers(0, 256, (257, *STACK[1:]), dtype=np.uint8)
        self.i = 0
        self.stack = self.pool[:4][None].copy()

    def step(self) -> tuple[np.ndarray, np.ndarray, bool, bool]:
        """(obs, next_obs, terminated, truncated) for one env; obs arrays shaped (1, 4, 84, 84)."""
        self.i += 1
        obs = self.stack
        nxt = np.concatenate([obs[:, 1:], self.pool[self.i % 257][None, None]], axis=1)
        ended = self.rng.random() < 1.0 / MEAN_EPISODE
        term = ended and self.rng.random() < 0.8
        self.stack = self.pool[(self.i * 7) % 250 : (self.i * 7) % 250 + 4][None].copy() if ended else nxt
        return obs, nxt, term, ended and not term


def make_ours(capacity: int):
    from rlkit.core.replay.buffers import make_replay_buffer

    return make_replay_buffer(capacity, OBS_SPACE, ACTION_SPACE, 1, frame_stack=4)


def make_sb3(capacity: int):
    import warnings

    from stable_baselines3.common.buffers import ReplayBuffer

    with warnings.catch_warnings():  # its "exceeds available memory" warning: we measure that on purpose
        warnings.simplefilter("ignore")
        return ReplayBuffer(
            capacity, OBS_SPACE, ACTION_SPACE, "cpu", 1, True, handle_timeout_termination=False
        )


def add_ours(buf, obs, nxt, term, trunc, action) -> None:
    from rlkit.core.types import Transition

    buf.add(Transition(obs, action, np.array([1.0]), nxt, np.array([term]), np.array([trunc])))


def add_sb3(buf, obs, nxt, term, trunc, action) -> None:
    buf.add(obs, nxt, action, np.array([1.0]), np.array([term or trunc]), [{}])


def sb3_bytes_per_transition() -> float:
    """SB3's storage per transition from its array shapes (what its own memory warning adds up)."""
    buf = make_sb3(1000)
    arrays = [buf.observations, buf.actions, buf.rewards, buf.dones, buf.timeouts]
    return sum(a.nbytes for a in arrays) / buf.buffer_size


def child(kind: str, size: int) -> dict:
    """Allocates and fills one buffer; returns its sizes and this process's peak RSS."""
    make_ours(1) if kind == "rlkit" else make_sb3(1)  # imports first: the base RSS includes the libraries
    base = vm_kib("VmRSS")
    t0 = time.perf_counter()
    buf = make_ours(size) if kind == "rlkit" else make_sb3(size)
    add = add_ours if kind == "rlkit" else add_sb3
    src, action = FrameSource(), np.zeros(1, dtype=np.int64)
    for _ in range(size):
        add(buf, *src.step(), action)
    fill_s = time.perf_counter() - t0
    if kind == "rlkit":
        held, nbytes = len(buf), buf.nbytes
    else:
        held, nbytes = (
            buf.size() * buf.n_envs,
            sum(a.nbytes for a in (buf.observations, buf.actions, buf.rewards, buf.dones, buf.timeouts)),
        )
    return dict(kind=kind, size=size, held=held, nbytes=nbytes, base_rss=base * 1024,
                peak_rss=vm_kib("VmHWM") * 1024, fill_s=fill_s)  # fmt: skip


def run_child(kind: str, size: int) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--size", str(size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory(args: argparse.Namespace) -> dict:
    gb = 1e9
    ours = run_child("rlkit", args.capacity)
    sb3 = run_child("sb3", args.sb3_size)
    per = sb3_bytes_per_transition()
    naive = args.capacity * 2 * np.prod(STACK) + args.capacity * (8 + 4 + 1)
    rows = [
        ("rlkit FrameReplayBuffer (measured)", ours["nbytes"] / gb, ours["peak_rss"] / gb),
        (f"SB3 optimize_memory_usage (measured at {args.sb3_size:,}, scaled)",
         sb3["nbytes"] / args.sb3_size * args.capacity / gb,
         (sb3["peak_rss"] - sb3["base_rss"]) / args.sb3_size * args.capacity / gb),
        ("SB3 optimize_memory_usage (computed from its shapes)", per * args.capacity / gb, float("nan")),
        ("naive obs + next_obs (computed)", naive / gb, float("nan")),
    ]  # fmt: skip
    print(f"{args.capacity:,} transitions of (4, 84, 84) uint8 stacks, 1 env")
    for name, nbytes, rss in rows:
        print(f"  {name:62s} arrays {nbytes:6.2f} GB   peak RSS {rss:6.2f} GB")
    print(f"  rlkit: holds {ours['held']:,} sampleable transitions, process RSS before allocating "
          f"{ours['base_rss'] / gb:.3f} GB, filled in {ours['fill_s']:.1f} s")  # fmt: skip
    sb3_gb = {k: sb3[k] / gb for k in ("nbytes", "peak_rss", "base_rss")}
    print(f"  SB3 at {args.sb3_size:,}: arrays {sb3_gb['nbytes']:.2f} GB, "
          f"peak RSS {sb3_gb['peak_rss']:.2f} GB "
          f"(base {sb3_gb['base_rss']:.3f} GB), filled in {sb3['fill_s']:.1f} s")  # fmt: skip
    return dict(rlkit=ours, sb3=sb3, sb3_bytes_per_transition=per, naive_bytes=int(naive))


def timed(fn, reps: int) -> float:
    """Median seconds of one call of fn over reps calls."""
    times = np.empty(reps)
    for i in range(reps):
        t0 = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - t0
    return float(np.median(times))


def adder(add, buf, steps, action):
    """A call that adds the next of the pre-made steps (wrapping around)."""
    it = iter(steps * 2)
    return lambda: add(buf, *next(it), action)


def speed(args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(1)  # torch's threaded copies in SB3's sample() only fight for 2 shared cores
    n = args.speed_capacity
    bufs = {"rlkit": make_ours(n), "sb3": make_sb3(n)}
    adds = {"rlkit": add_ours, "sb3": add_sb3}
    src, action = FrameSource(1), np.zeros(1, dtype=np.int64)
    for _ in range(n):  # prefill both with the same stream
        step = src.step()
        for k in bufs:
            adds[k](bufs[k], *step, action)
    steps = [src.step() for _ in range(args.reps)]

    results: dict[str, dict[str, list[float]]] = {
        k: {"add": [], "sample": [], "sample_torch": []} for k in bufs
    }
    for r in range(args.rounds):
        for kind in list(bufs) if r % 2 == 0 else list(bufs)[::-1]:
            buf, res = bufs[kind], results[kind]
            res["add"].append(timed(adder(adds[kind], buf, steps, action), args.reps))
            if kind == "sb3":  # SB3's sample() returns CPU tensors
                res["sample_torch"].append(timed(lambda b=buf: b.sample(32), args.reps))
            else:
                res["sample"].append(timed(lambda b=buf: b.sample(32), args.reps))
                tensors = lambda b=buf: [torch.as_tensor(x) for x in b.sample(32)]  # noqa: E731
                res["sample_torch"].append(timed(tensors, args.reps))
    med = {k: {m: float(np.median(v)) * 1e6 for m, v in d.items() if v} for k, d in results.items()}
    print(f"(4, 84, 84) uint8, capacity {n:,}, {args.rounds} rounds x {args.reps} calls, median us per call")
    ours, theirs = med["rlkit"], med["sb3"]
    for label, key in (("add():", "add"), ("sample(32) -> tensors:", "sample_torch")):
        ratio = theirs[key] / ours[key]
        print(f"  {label:23s} rlkit {ours[key]:7.1f}   SB3 {theirs[key]:7.1f}   SB3/rlkit {ratio:.2f}")
    print(f"  sample(32) numpy only: rlkit {med['rlkit']['sample']:7.1f}")
    return dict(median_us=med, rounds=results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["memory", "speed", "all"], default="memory")
    parser.add_argument(
        "--capacity", type=int, default=1_000_000, help="rlkit buffer size for the memory part"
    )
    parser.add_argument("--sb3-size", type=int, default=100_000, help="SB3 buffer size actually filled")
    parser.add_argument("--speed-capacity", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    parser.add_argument("--child", choices=["rlkit", "sb3"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.size)))
        return
    out = {}
    if args.part in ("memory", "all"):
        out["memory"] = memory(args)
    if args.part in ("speed", "all"):
        out["speed"] = speed(args)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
