"""Optuna search for `rlkit sweep` (`sweep.search=optuna sweep.samples=N`), through Ray Tune's OptunaSearch.

    rlkit sweep agent=q_learning 'agent.alpha=loguniform(0.01,1)' agent.epsilon=0.05,0.2 \\
        sweep.search=optuna sweep.samples=12 seeds=3

Optuna's TPE sampler (seeded by `sweep.seed`) proposes each configuration from the scores of those that
finished: the axes are the random search's (`uniform`, `loguniform`, `randint`, `choice(...)` or a comma
list). One Tune trial is one configuration: it trains its seeds one after another (ordinary run
directories <sweep dir>/trials/<config>/seed_<k>/, as every sweep) and tells Optuna the mean of their last
evaluation of the task's headline metric (maximised, or minimised where lower is better). Configurations
are recorded in sweep.json as they start, so `rlkit sweep resume=` finishes the ones an interruption cut
short; it does not propose new ones (start a new sweep for more). The report is the other searches'.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.frontend.bench import split_top_level
from rlkit.frontend.sweep_board import final_and_best
from rlkit.frontend.sweep_plan import DISTRIBUTION, Plan, Trial, config_name, trial_dir
from rlkit.frontend.sweep_ray import _last_line, trial_config
from rlkit.frontend.sweep_table import SweepTable
from rlkit.frontend.sweep_trial import run_trial


def search_space(swept: dict[str, list[str]]) -> dict[str, Any]:
    """Tune's domains for the axes, under keys p0, p1, ... (override keys hold dots)."""
    from ray import tune

    space = {}
    for i, spec in enumerate(swept.values()):
        match = DISTRIBUTION.fullmatch(spec[0]) if len(spec) == 1 else None
        if match is None:
            space[f"p{i}"] = tune.choice(spec)
            continue
        kind, args = match.group(1), split_top_level(match.group(2))
        if kind == "choice":
            space[f"p{i}"] = tune.choice(args)
        elif kind == "randint":
            space[f"p{i}"] = tune.randint(math.ceil(float(args[0])), math.ceil(float(args[1])))
        else:
            space[f"p{i}"] = getattr(tune, kind)(float(args[0]), float(args[1]))
    return space


def overrides_of(config: dict[str, Any], keys: list[str]) -> list[str]:
    """The `rlkit train` overrides of Optuna's values (floats to 4 significant digits, as random search)."""
    out = []
    for i, key in enumerate(keys):
        value = config[f"p{i}"]
        out.append(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
    return out


def _trainable(config: dict[str, Any]) -> None:
    """One configuration: its seeds one after another; the score is the mean of their last evaluations."""
    from ray import tune

    base = config["base"]
    headline, sweep_dir = Headline.from_record(base["headline"]), Path(base["sweep_dir"])
    overrides = overrides_of(config, base["keys"])
    name = _claim_name(sweep_dir, tune.get_context().get_trial_id(), overrides)
    finals = []
    for seed in base["seeds"]:
        trial = Trial(name, seed, [*base["common"], *overrides, f"seed={seed}"])
        extra = {"name": trial.name, "config_name": name, "seed": seed, "overrides": overrides}

        def report(result: dict, extra: dict = extra) -> None:
            score = result.get("eval")
            tune.report({**result, **extra, "score": math.nan if score is None else score})

        run_trial(trial_config(sweep_dir, trial, headline), report)
        finals.append(final_and_best(trial_dir(sweep_dir, trial) / "metrics.jsonl", headline)[0])
    scores = [f for f in finals if f is not None]
    score = sum(scores) / len(scores) if scores else math.nan
    tune.report({"name": trial.name, "config_name": name, "seed": seed, "overrides": overrides, "done": 1,
                 "score": score})  # fmt: skip


def _claim_name(sweep_dir: Path, trial_id: str, overrides: list[str]) -> str:
    """The configuration's name '<NN>_<values>', NN the next free number (claimed with an exclusive create
    under <sweep dir>/optuna/, so concurrent trials, on any node, never share one); a retried trial finds
    the name it claimed before."""
    claims = sweep_dir / "optuna"
    claims.mkdir(parents=True, exist_ok=True)
    mine = claims / f"trial_{trial_id}"
    if mine.is_file():
        return mine.read_text(encoding="utf-8").strip()
    index = 0
    while True:
        try:
            with open(claims / f"{index:03d}", "x", encoding="utf-8") as f:
                f.write(trial_id)
            break
        except FileExistsError:
            index += 1
    name = config_name(index, overrides)
    mine.write_text(name + "\n", encoding="utf-8")
    return name


class _Recorder:
    """Trial events into the plan (configurations as Optuna proposes them) and the live table. Tune pickles
    its callbacks with the experiment's state: a copy records nothing."""

    def __init__(self, plan: Plan | None, table: SweepTable | None):
        self.plan, self.table, self.last = plan, table, {}

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.plan, self.table, self.last = None, None, {}

    def result(self, trial_id: str, result: dict) -> None:
        name = result.get("name")
        if not name or self.plan is None:
            return
        self.last[trial_id] = name
        if result["config_name"] not in self.plan.configs:  # kept in the order of their names
            self.plan.configs = dict(
                sorted({**self.plan.configs, result["config_name"]: list(result["overrides"])}.items())
            )
        if self.table is not None:
            if name not in self.table.rows:
                common = [*self.plan.common, *result["overrides"], f"seed={result['seed']}"]
                self.table.add(Trial(result["config_name"], int(result["seed"]), common))
            self.table.event(name, "done" if result.get("done") else "running", result)

    def status(self, trial_id: str, status: str) -> None:
        if self.table is not None and trial_id in self.last:
            self.table.event(self.last[trial_id], status)


def run(sweep_dir: Path, plan: Plan, table: SweepTable, headline: Headline) -> dict[str, str | None]:
    """Runs an Optuna search of plan.settings['samples'] configurations (recorded into plan.configs);
    returns {trial name: error message or None}."""
    try:
        import optuna
        from ray import tune
        from ray.tune.search.optuna import OptunaSearch
    except ImportError:
        raise UserError('sweep.search=optuna needs Optuna and Ray: pip install -e ".[optuna]"') from None
    settings, rec = plan.settings, _Recorder(plan, table)
    keys = list(settings["space"])

    class Progress(tune.Callback):
        """Trial events into the plan and the live table."""

        def on_trial_result(self, iteration, trials, trial, result, **info):
            rec.result(trial.trial_id, result)

        def on_trial_recover(self, iteration, trials, trial, **info):
            rec.status(trial.trial_id, "retrying")

        def on_trial_error(self, iteration, trials, trial, **info):
            rec.status(trial.trial_id, "failed")

    base = {"sweep_dir": str(sweep_dir.absolute()), "common": plan.common, "seeds": plan.seeds, "keys": keys,
            "headline": headline.record({})}  # fmt: skip
    mode = "max" if headline.higher_is_better else "min"
    resources = {"cpu": float(settings["cpus_per_trial"]), "gpu": float(settings["gpus_per_trial"])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        tuner = tune.Tuner(
            tune.with_resources(_trainable, resources),
            param_space={**search_space(settings["space"]), "base": base},
            tune_config=tune.TuneConfig(
                search_alg=OptunaSearch(metric="score", mode=mode, seed=int(settings["seed"])),
                num_samples=int(settings["samples"]),
                reuse_actors=True,  # a worker process serves trial after trial
            ),
            run_config=tune.RunConfig(
                name="ray_optuna",
                storage_path=str(sweep_dir.absolute()),
                verbose=0,
                callbacks=[Progress()],
                failure_config=tune.FailureConfig(max_failures=int(settings["max_retries"])),
            ),
        )
        results = tuner.fit()
    errors: dict[str, str | None] = {}
    for result in results:
        name = (result.metrics or {}).get("name")
        if name:
            errors[name] = None if result.error is None else _last_line(result.error)
    return errors
