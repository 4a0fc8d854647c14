"""`rlkit bench`: two or more agents on the same env, budget and seeds, alternated in one process.

    rlkit bench agents=[sb3_ppo,sb3_a2c] env=CartPole-v1 seeds=[0,1,2] total_steps=50000 eval.every=5000
    rlkit bench agents=[dqn,sb3(agent.algo=QRDQN;as=qrdqn)] env=CartPole-v1 threshold=475

An agent is an agent config name, optionally with its own overrides in parentheses separated by `;`
(`as=<label>` names it in the table). Every other key=value (env=, total_steps=, eval.every=, num_envs=,
device=, ...) applies to every run, exactly as `rlkit train` takes it. For each seed, each agent trains in
turn (so machine noise hits all agents alike), each in a normal run directory <out>/<label>_seed<seed>/ that
`rlkit play` and `rlkit eval` accept. The bench directory gets table.md, results.json and curves.png,
rewritten after every run (rlkit.frontend.bench_report): a run that fails (or Ctrl-C) leaves the others'
results, the failed run marked.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

from rlkit.core.diskio import writable_dir
from rlkit.core.errors import UserError
from rlkit.envs.factory import make_env
from rlkit.frontend.app import build_agent, train, validate
from rlkit.frontend.bench_report import RunResult, eval_curve, write_report
from rlkit.frontend.compose import compose_config
from rlkit.frontend.rundir import check_new_run_dir, locked_run_dir

BENCH_KEYS = {
    "agents": "agents to compare, e.g. [sb3_ppo,sb3_a2c] or [dqn,sb3(agent.algo=QRDQN;as=qrdqn)] (required)",
    "seeds": "seeds, e.g. [0,1,2] (default [0,1,2])",
    "threshold": "eval return that counts as solved, for the 'steps to threshold' column (default: none)",
    "out": "bench directory (default runs/bench/<date>/<time>_<env>)",
    "ui": "progress display of each run: auto (default), rich, plain or none",
}


@dataclass
class AgentSpec:
    """One contender: a label for the table and the overrides that select it."""

    label: str
    overrides: list[str]


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Splits on `sep` outside parentheses and brackets: 'a,b(x=1,y=2)' -> ['a', 'b(x=1,y=2)']."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def parse_list(value: str) -> list[str]:
    """'[a,b]' or 'a,b' -> ['a', 'b']."""
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return split_top_level(value)


def parse_agent(spec: str) -> AgentSpec:
    """'sb3(agent.algo=QRDQN;as=qrdqn)' -> AgentSpec('qrdqn', ['agent=sb3', 'agent.algo=QRDQN'])."""
    name, _, rest = spec.partition("(")
    name = name.strip()
    if rest and not rest.endswith(")"):
        raise UserError(f"agents: '{spec}' is malformed; write name or name(key=value;key=value)")
    label, overrides = name, [f"agent={name}"]
    for item in split_top_level(rest[:-1], ";") if rest else []:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"agents: '{item}' in '{spec}' is not key=value")
        if key.strip() == "as":
            label = value.strip()
        else:
            overrides.append(item.strip())
    if not name:
        raise UserError(f"agents: '{spec}' has no agent name")
    return AgentSpec(label, overrides)


def check_contestants(agents: list[AgentSpec], seed: int, common: list[str], ui: str) -> None:
    """Composes every agent's config and builds it on its env: a mistake or an agent that does not fit the
    env fails now, not after the others have trained."""
    for spec in agents:
        cfg = compose_config([f"ui={ui}", *common, *spec.overrides, f"seed={seed}"])
        validate(cfg)
        env = make_env(cfg.env)
        try:
            with warnings.catch_warnings():  # the run itself warns, once
                warnings.simplefilter("ignore")
                build_agent(cfg, env.observation_space, env.action_space)
        finally:
            env.close()


def run_one(spec: AgentSpec, seed: int, common: list[str], out: Path, ui: str = "none") -> RunResult:
    """Trains one agent with one seed in its own run directory (with .hydra/ as `rlkit train` writes it)."""
    overrides = [f"ui={ui}", *common, *spec.overrides, f"seed={seed}"]
    cfg = compose_config(overrides)
    run_dir = out / f"{spec.label}_seed{seed}"
    with locked_run_dir(run_dir):  # as `rlkit train` does: a resume of it meanwhile is refused
        (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
        OmegaConf.save(OmegaConf.create(overrides), run_dir / ".hydra" / "overrides.yaml")
        summary = train(cfg, run_dir)
    ev = summary["final_eval"]
    return RunResult(
        spec.label,
        seed,
        int(summary["steps"]),
        float(summary["wall_time_s"]),
        float(ev["return_mean"]),
        float(ev["return_std"]),
        eval_curve(run_dir / "metrics.jsonl"),
        str(run_dir),
    )


def failed_run(spec: AgentSpec, seed: int, out: Path, err: BaseException, wall_time_s: float) -> RunResult:
    """The record of a run that stopped with an error: its message, and its curve so far."""
    run_dir = out / f"{spec.label}_seed{seed}"
    metrics = run_dir / "metrics.jsonl"
    curve = eval_curve(metrics) if metrics.is_file() else ([], [])
    message = str(err) or type(err).__name__
    nan = float("nan")
    return RunResult(spec.label, seed, 0, wall_time_s, nan, nan, curve, str(run_dir), error=message)


def parse_args(argv: list[str]) -> tuple[list[AgentSpec], list[int], float | None, Path | None, list[str]]:
    """(agents, seeds, threshold, out, overrides common to every run)."""
    opts, common = {}, []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            raise UserError(
                f"rlkit bench: '{arg}' is not key=value; keys: {', '.join(BENCH_KEYS)}, or any train key"
            )
        if key in BENCH_KEYS:
            opts[key] = value
        elif key in ("agent", "seed", "resume") or key.startswith("hydra"):
            raise UserError(f"rlkit bench: {key}= is set per run by the bench; use agents=[name(key=value)]")
        else:
            common.append(arg)
    if "agents" not in opts:
        raise UserError("rlkit bench: agents=[a,b,...] is required (two or more agent configs)")
    agents = [parse_agent(s) for s in parse_list(opts["agents"])]
    if len(agents) < 2:
        raise UserError(
            f"rlkit bench: agents={opts['agents']} names {len(agents)} agent; compare two or more"
        )
    labels = [a.label for a in agents]
    if len(set(labels)) != len(labels):
        raise UserError(f"rlkit bench: agent labels repeat ({', '.join(labels)}); name them with as=<label>")
    try:
        seeds = [int(s) for s in parse_list(opts.get("seeds", "[0,1,2]"))]
        threshold = float(opts["threshold"]) if "threshold" in opts else None
    except ValueError as err:
        raise UserError(f"rlkit bench: seeds must be integers and threshold a number ({err})") from None
    if not seeds:
        raise UserError("rlkit bench: seeds=[] is empty")
    out = Path(opts["out"]) if "out" in opts else None
    return agents, seeds, threshold, out, common


def default_out(common: list[str]) -> Path:
    """runs/bench/<date>/<time>_<env>."""
    env = next((a.partition("=")[2] for a in common if a.startswith("env=")), "maze").replace("/", "_")
    now = datetime.now()
    return Path("runs") / "bench" / now.strftime("%Y-%m-%d") / f"{now.strftime('%H-%M-%S')}_{env}"


def main(argv: list[str]) -> int:
    """`rlkit bench key=value ...`: prints the table; writes table.md, results.json and curves.png."""
    if any(a in ("-h", "--help", "help") for a in argv):
        print(__doc__.strip() + "\n\nkeys:")
        for key, text in BENCH_KEYS.items():
            print(f"  {key:<10} {text}")
        return 0
    agents, seeds, threshold, out, common = parse_args(argv)
    ui = next((a.partition("=")[2] for a in argv if a.startswith("ui=")), "auto")
    check_contestants(agents, seeds[0], common, ui)
    out = writable_dir(out or default_out(common), "out")
    with locked_run_dir(out):  # a second bench into the same out= is refused, naming this one's PID
        return _run_all(argv, agents, seeds, threshold, out, common, ui)


def _run_all(argv: list[str], agents: list[AgentSpec], seeds: list[int], threshold: float | None, out: Path,
             common: list[str], ui: str) -> int:  # fmt: skip
    """Every agent on every seed into `out` (locked), the report rewritten after each run."""
    for seed in seeds:  # a rerun into the same out= would append to the old runs' metrics
        for spec in agents:
            check_new_run_dir(out / f"{spec.label}_seed{seed}", "out", "choose another out= or delete it")
    out.mkdir(parents=True, exist_ok=True)
    plan = {"agents": agents, "seeds": seeds, "threshold": threshold, "common": common}
    results: list[RunResult] = []
    t0 = time.perf_counter()
    for seed in seeds:
        for spec in agents:  # alternate: every agent runs once per seed before the next seed
            print(f"rlkit bench: {spec.label} seed {seed} ...", file=sys.stderr, flush=True)
            t_run = time.perf_counter()
            try:
                results.append(run_one(spec, seed, common, out, ui))
            except (Exception, KeyboardInterrupt) as err:  # the others' results are kept, this one is marked
                results.append(failed_run(spec, seed, out, err, time.perf_counter() - t_run))
                if isinstance(err, KeyboardInterrupt):
                    write_report(out, argv, plan, results, t0)
                    print(f"rlkit bench: results so far are in {out}", file=sys.stderr, flush=True)
                    raise
                print(f"rlkit bench: {spec.label} seed {seed} failed: {err}", file=sys.stderr, flush=True)
            table = write_report(out, argv, plan, results, t0)
    print(table)
    print(f"\nBench directory: {out}  (table.md, results.json, curves.png)", flush=True)
    failed = [r for r in results if r.error is not None]
    if failed:
        print(
            f"rlkit bench: {len(failed)} of {len(results)} runs failed (marked in table.md and results.json)",
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0
