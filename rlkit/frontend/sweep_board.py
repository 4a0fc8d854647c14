"""TensorBoard's HPARAMS tab for `rlkit sweep`: each finished trial's run directory gets an hparams summary.

`tensorboard --logdir <sweep dir>` then lists every trial in the HPARAMS tab with its swept values (and its
seed) next to two metrics: `sweep/final` (the last evaluation of the task's headline metric) and `sweep/best`
(its best evaluation; the lowest where lower is better). The summary is tensorboard's own protobufs
(`tensorboard.plugins.hparams.summary_v2`: the experiment config, the session start) plus two scalars, in
one more event file `events.out.tfevents.<time>.<host>.hparams` beside the run's own; torch is not used.
Every trial writes the same experiment config (all swept keys, the two metrics), so whichever run
TensorBoard reads it from, the table is the same. Written once per trial (the file is its own marker).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rlkit.core.headline import RETURN, Headline, headline_of
from rlkit.core.loggers import TensorBoardLogger
from rlkit.envs.factory import make_env
from rlkit.frontend.compose import compose_config
from rlkit.frontend.sweep_plan import Plan, Trial, trial_dir
from rlkit.frontend.sweep_trial import read_progress

METRICS = ("sweep/final", "sweep/best")


def task_headline(overrides: list[str]) -> Headline:
    """The headline metric of the task these `rlkit train` overrides make (builds the env once)."""
    env = make_env(compose_config([*overrides, "ui=none"]).env)
    try:
        return headline_of(env)
    finally:
        env.close()


def hparams_of(plan: Plan, trial: Trial) -> dict[str, Any]:
    """The trial's swept values (numbers as numbers, the rest as text) and its seed."""
    out: dict[str, Any] = {}
    for override in plan.configs[trial.config]:
        key, _, value = override.partition("=")
        out[key] = _typed(value)
    out["seed"] = trial.seed
    return out


def _typed(value: str) -> Any:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return float(value)
    except ValueError:
        return value


def final_and_best(metrics: Path, headline: Headline) -> tuple[float | None, float | None, int]:
    """The last and the best eval/<headline key> in a run's metrics.jsonl (None when never evaluated), and
    its last step."""
    progress = read_progress(metrics, f"eval/{headline.key}", headline.higher_is_better)
    return progress["eval"], progress["best"], progress["step"]


def write_hparams(run_dir: Path, hparams: dict[str, Any], headline: Headline, trial_id: str) -> bool:
    """Adds the hparams event file to a finished run (False: already there, or the run is not finished)."""
    from tensorboard.plugins.hparams import summary_v2 as hp  # protobufs only: no TensorFlow, no torch

    if not (run_dir / "summary.json").is_file() or any(run_dir.glob("events.out.tfevents.*.hparams")):
        return False
    final, best, step = final_and_best(run_dir / "metrics.jsonl", headline)
    what = f"{headline.name} ({'higher' if headline.higher_is_better else 'lower'} is better)"
    metrics = [
        hp.Metric(
            "sweep/final", display_name=f"final {headline.name}", description=f"last evaluation: {what}"
        ),
        hp.Metric("sweep/best", display_name=f"best {headline.name}", description=f"best evaluation: {what}"),
    ]
    board = TensorBoardLogger(run_dir, suffix="hparams")
    try:
        board.log_summary(hp.hparams_config_pb([hp.HParam(k) for k in hparams], metrics), 0)
        board.log_summary(hp.hparams_pb(hparams, trial_id=trial_id, start_time_secs=time.time()), 0)
        scalars = {k: v for k, v in zip(METRICS, (final, best), strict=True) if v is not None}
        if scalars:
            board.log(scalars, step)
    finally:
        board.close()
    return True


def write_all(sweep_dir: Path, plan: Plan, headline: Headline | None = None) -> int:
    """Writes the hparams summary of every finished trial that lacks one; how many were written."""
    trials = [t for t in plan.trials() if (trial_dir(sweep_dir, t) / "summary.json").is_file()]
    if not trials:
        return 0
    headline = headline or RETURN
    return sum(write_hparams(trial_dir(sweep_dir, t), hparams_of(plan, t), headline, t.name) for t in trials)
