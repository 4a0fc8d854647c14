"""The `rlkit eval` command: greedy episodes of a run's checkpoint scored by rlkit.core.evaluation.evaluate,
printed as a table and written to eval.json, so the same seed gives the same numbers."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rlkit.core.diskio import write_text, writing
from rlkit.core.errors import UserError, invalid_choice
from rlkit.core.evaluation import EVAL_SEED_OFFSET, evaluate
from rlkit.core.headline import RETURN, Headline, headline_of, task_metrics
from rlkit.envs.factory import make_env
from rlkit.frontend.keyargs import EVAL_KEYS, number, parse_args
from rlkit.frontend.runs import load_run
from rlkit.frontend.ui import EpisodeProgress, make_ui


def eval_command(args: list[str]) -> int:
    """`rlkit eval`: greedy episodes of a run's checkpoint, a table on stdout and eval.json."""
    opts, _ = parse_args("eval", args, EVAL_KEYS)
    if "run" not in opts:
        raise UserError("`rlkit eval` needs run=<run dir>")
    which = opts.get("checkpoint", "latest")
    loaded = load_run(Path(opts["run"]), which)
    cfg = loaded.cfg
    episodes = number(opts, "episodes", int, cfg.env.eval_episodes or cfg.eval.episodes, 1)
    seed = number(opts, "seed", int, cfg.seed + EVAL_SEED_OFFSET)
    max_steps = number(opts, "max_steps", int, cfg.eval.max_episode_steps, 1)
    ui = _eval_ui(opts.get("ui", "auto"))
    out = Path(opts["out"]) if "out" in opts else loaded.run_dir / "eval.json"
    run, target = loaded.run_dir.resolve(), out.resolve()
    own_file = target.parent == run and target.suffix == ".json" and target.name != "summary.json"
    if run in target.parents and not own_file:  # .hydra/, checkpoints/, metrics.jsonl, summary.json, ...
        raise UserError(
            f"out={out} would overwrite the run's own files; write a .json file at the top of the run (the "
            "default is eval.json) or a file outside it"
        )
    with writing(out, "choose another out="):  # fails now, not after the episodes
        out.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out.parent).close()
    env = make_env(cfg.env, evaluation=True)
    title = f"evaluating {cfg.agent.name} on {cfg.env.name}: {episodes:,} greedy episodes"
    progress = EpisodeProgress(ui, title)
    try:
        result = evaluate(loaded.agent, env, episodes, seed, max_steps, progress)
        headline = headline_of(env)
    finally:
        progress.close()
        env.close()
    record = {
        "headline": headline.record(result.summary()),
        "run_dir": str(loaded.run_dir),
        "checkpoint": str(loaded.checkpoint),
        "checkpoint_step": loaded.step,
        "agent": cfg.agent.name,
        "env": cfg.env.name,
        "seed": seed,
        **result.as_dict(),
    }
    write_text(out, json.dumps(record, indent=2) + "\n", "choose another out=")
    print(eval_table(record), file=sys.stdout, flush=True)
    print(f"Wrote {out}", flush=True)
    return 0


def _eval_ui(mode: str) -> Any:
    """The progress display of `rlkit eval`, on stderr (stdout keeps the table)."""
    modes = ("auto", "rich", "plain", "none")
    if mode not in modes:
        raise invalid_choice(f"ui={mode}", modes)
    return make_ui(mode, stream=sys.stderr)


def eval_table(record: dict[str, Any]) -> str:
    """The evaluation as a small fixed-width table: returns for RL, the task's headline metric first else."""
    step = record["checkpoint_step"]
    at = f", trained {step:,} steps" if step is not None else ""
    n, last = record["episodes"], record["seed"] + record["episodes"] - 1
    headline = Headline.from_record(record.get("headline"))
    task = headline.key != RETURN.key
    what = f"{n} pass{'es' * (n != 1)} over the evaluation split" if task else f"{n} greedy episodes"
    head = (
        f"{record['agent']} on {record['env']} ({Path(record['checkpoint']).name}{at}): "
        f"{what}, seeds {record['seed']}..{last}"
    )
    if task:
        rows = [(headline.name, record.get(headline.key, float("nan")))]
        rows += list(task_metrics(record.get("metrics", {}), headline).items())
        width = max(len(name) for name, _ in rows)
        return "\n".join([head, *[f"  {name:<{width}} {value:>10.4f}" for name, value in rows]])
    rows = [
        ("return mean", record["return_mean"]),
        ("return std", record["return_std"]),
        ("return min", record["return_min"]),
        ("return max", record["return_max"]),
        ("length mean", record["length_mean"]),
        ("truncated", record["truncated"]),
    ]
    return "\n".join([head, *[f"  {name:<12} {value:>12.2f}" for name, value in rows]])
