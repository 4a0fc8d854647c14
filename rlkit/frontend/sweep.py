"""`rlkit sweep`: a grid or random search over `rlkit train` overrides, several seeds each, on Ray Tune.

    rlkit sweep agent=q_learning env=maze agent.alpha=0.1,0.5 agent.epsilon=0.05,0.2 seeds=5
    rlkit sweep +experiment=dqn_cartpole 'agent.lr=loguniform(1e-4,1e-2)' sweep.search=random sweep.samples=8
    rlkit sweep resume=runs/sweep/2026-11-29/12-00-00_maze

Every override `rlkit train` takes applies to every trial; a comma list is a grid axis. Each trial is an
ordinary run directory <sweep dir>/trials/<config>/seed_<k>/ (`rlkit play`, `rlkit eval`, TensorBoard work
on it). Ray runs the trials: a local instance rlkit starts and stops (sweep.num_cpus), or a cluster
(sweep.address=auto, with sweep.storage= on more than one node). At the end: results.csv, summary.json
(IQM with a 95% bootstrap CI, probability of improvement), table.md and curves.png in the sweep directory.
A crashed trial is retried from its last checkpoint; Ctrl-C stops, and `rlkit sweep resume=<dir>` continues
without re-running finished trials.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
from pathlib import Path

from rlkit.core.commands import command
from rlkit.core.diskio import writable_dir
from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.core.interrupts import stop_signal
from rlkit.frontend import (
    sweep_board,
    sweep_optuna,
    sweep_ray,
)  # (Ray itself is imported there once a sweep really runs)
from rlkit.frontend.app import resolve_budget
from rlkit.frontend.bench import AgentSpec, check_contestants
from rlkit.frontend.compose import compose_config
from rlkit.frontend.rundir import hydra_value, locked_run_dir
from rlkit.frontend.sweep_plan import (
    OTHER_KEYS,
    SETTINGS,
    Plan,
    Trial,
    default_out,
    finished,
    make_plan,
    parse_args,
    random_configs,
    settings_of,
    trial_dir,
)
from rlkit.frontend.sweep_report import write_results
from rlkit.frontend.sweep_table import SweepTable

RESUME_MAY_CHANGE = ("sweep.address", "sweep.num_cpus", "sweep.cpus_per_trial", "sweep.gpus_per_trial",
                     "sweep.max_retries", "ui")  # fmt: skip


def sweep_help() -> str:
    """Text of `rlkit sweep --help`."""
    lines = [__doc__.strip(), "", "keys:"]
    lines += [f"  {k:<22} {v}" for k, v in OTHER_KEYS.items()]
    lines += [f"  sweep.{k:<16} {v}" for k, v in SETTINGS.items()]
    return "\n".join(lines)


def _resume_plan(argv: list[str]) -> tuple[Plan, dict[str, str], Path]:
    """The saved plan of resume=<dir>, with the runtime settings this command may change."""
    target = next(a for a in argv if a.startswith("resume=")).partition("=")[2]
    sweep_dir = Path(target).expanduser().absolute()
    rest = [a for a in argv if not a.startswith("resume=")]
    others = [a for a in rest if not a.startswith(RESUME_MAY_CHANGE)]
    if others:
        raise UserError(
            "rlkit sweep resume= continues a sweep with its saved plan; not allowed with it: "
            f"{' '.join(others)} (may change: {', '.join(RESUME_MAY_CHANGE)})"
        )
    plan = Plan.load(sweep_dir)
    opts = parse_args(rest)[0]
    plan.settings.update({k[6:]: v for k, v in settings_of(opts).items() if f"sweep.{k}" in opts})
    return plan, opts, sweep_dir


def _new_dir(plan: Plan, opts: dict[str, str]) -> Path:
    """The new sweep's directory: out=, or under sweep.storage / runs/; refused when it holds a sweep."""
    storage = plan.settings.get("storage")
    out = Path(opts["out"]) if "out" in opts else default_out(plan.common, storage)
    out = out.expanduser().absolute()
    if storage and not out.is_relative_to(Path(storage).expanduser().absolute()):
        raise UserError(
            f"out={out} is not inside sweep.storage={storage}: every node must see the sweep's folder"
        )
    if (out / "sweep.json").exists():
        raise UserError(f"out={out} holds a sweep already: continue it with rlkit sweep resume={out}, or "
                        "choose another out=")  # fmt: skip
    return writable_dir(out, "out")


def _old_nodes(sweep_dir: Path) -> dict[str, str]:
    """Which node ran each trial, from an earlier results.csv (a resumed sweep keeps it)."""
    path = sweep_dir / "results.csv"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as f:
        return {f"{r['config']}/seed_{r['seed']}": r["node"] for r in csv.DictReader(f) if r.get("node")}


def main(argv: list[str]) -> int:
    """`rlkit sweep key=value ...`: runs the trials, prints the table; exit 0, 1 (failed trials),
    130 (Ctrl-C) or 143 (SIGTERM)."""
    if any(a in ("-h", "--help", "help") for a in argv):
        print(sweep_help())
        return 0
    if any(a.startswith("resume=") for a in argv):
        plan, opts, sweep_dir = _resume_plan(argv)
    else:
        plan, opts = make_plan(argv)
        specs = [AgentSpec(name, over) for name, over in plan.configs.items()]
        if plan.settings["search"] == "optuna":  # one draw of its space stands for what Optuna will propose
            specs = [AgentSpec("optuna", random_configs(plan.settings["space"], 1, 0)[0])]
        check_contestants(specs, plan.seeds[0], plan.common, "none")  # a mistake fails now, in one line
        sweep_dir = None
    ui = opts.get("ui", "auto")
    first = plan.trials()[0].overrides if plan.trials() else [*plan.common, f"seed={plan.seeds[0]}"]
    total_steps = resolve_budget(compose_config(first))[0]
    headline = sweep_board.task_headline(first)
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")  # Ctrl-C raises here, as everywhere in rlkit
    pending = sweep_dir is None or any(not finished(sweep_dir, t) for t in plan.trials())
    started = sweep_ray.connect(plan.settings) if pending else False  # nothing left to run: no Ray
    try:
        sweep_dir = sweep_dir or _new_dir(plan, opts)
        with locked_run_dir(sweep_dir):  # one sweep process per directory
            plan.save(sweep_dir)
            return _run(plan, sweep_dir, ui, total_steps, headline)
    finally:
        sweep_ray.disconnect(started)


def _wants_reeval(plan: Plan, sweep_dir: Path) -> bool:
    """sweep.reeval_seeds is set, not yet planned, and every trial finished."""
    done = all(finished(sweep_dir, t) for t in plan.trials())
    return bool(plan.settings.get("reeval_seeds")) and not plan.fresh and done


def _run(plan: Plan, sweep_dir: Path, ui: str, total_steps: int | None, headline: Headline) -> int:
    """Runs the unfinished trials, writes the results; the exit status."""
    trials = plan.trials()
    todo = [t for t in trials if not finished(sweep_dir, t)]

    def hparams(t: Trial) -> None:  # TensorBoard's HPARAMS tab, as soon as a trial finishes
        sweep_board.write_hparams(trial_dir(sweep_dir, t), sweep_board.hparams_of(plan, t), headline, t.name)

    table = SweepTable(trials, ui, total_steps, metric=headline.name, on_done=hparams)
    nodes = _old_nodes(sweep_dir)
    for t in trials:
        if t not in todo:
            row = table.rows[t.name]  # finished earlier: shown as done, without a line of its own
            row.status, row.node = "done", nodes.get(t.name, "")
    if len(todo) < len(trials) and ui != "none":
        print(f"rlkit sweep: {len(trials) - len(todo)} of {len(trials)} trials already finished", flush=True)
    errors, interrupted = {}, False
    table.start()
    try:
        if plan.settings["search"] == "optuna" and not plan.configs:  # a new Optuna search
            errors = sweep_optuna.run(sweep_dir, plan, table, headline)
        elif todo:
            errors = sweep_ray.run(sweep_dir, todo, plan.settings, table, headline)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        table.stop()
        plan.save(sweep_dir)  # (Optuna's configurations, recorded as they started)
        trials = plan.trials()
        nodes.update({name: row.node for name, row in table.rows.items() if row.node})
        sweep_board.write_all(sweep_dir, plan, headline)  # trials finished earlier or without a "done" event
        text = write_results(sweep_dir, plan, nodes, errors)
    resume = f"{command('rlkit')} sweep resume={hydra_value(str(sweep_dir))}"
    best = json.loads((sweep_dir / "summary.json").read_text(encoding="utf-8"))["best"]
    if not interrupted and best and _wants_reeval(plan, sweep_dir):
        if ui != "none":
            print(f"rlkit sweep: re-training the best configuration, {best}, on fresh seeds", flush=True)
        plan.add_reeval(best)
        plan.save(sweep_dir)
        return _run(plan, sweep_dir, ui, total_steps, headline)
    if interrupted:  # Ctrl-C, or SIGTERM (`kill`): 130 or 143, as rlkit train and the shells say
        what = "interrupted" if stop_signal() == signal.SIGINT else f"terminated ({stop_signal().name})"
        print(f"rlkit sweep: {what}; finished trials are kept. Continue with: {resume}", file=sys.stderr)
        return 128 + stop_signal()
    files = "results.csv, summary.json, table.md, curves.png, trials/"
    print(f"\n{text}\n\nSweep directory: {sweep_dir}  ({files})")
    board = hydra_value(str(sweep_dir / "trials"))
    print(
        f"TensorBoard:     {command('tensorboard')} --logdir {board}  (HPARAMS tab: every trial)", flush=True
    )
    unfinished = [t.name for t in trials if not finished(sweep_dir, t)] or [n for n, e in errors.items() if e]
    if unfinished:
        why = "; ".join(f"{n}: {errors[n]}" for n in unfinished if errors.get(n))
        print(f"rlkit sweep: {len(unfinished)} of {len(trials)} trials did not finish ({why or 'stopped'}); "
              f"retry them with: {resume}", file=sys.stderr, flush=True)  # fmt: skip
        return 1
    return 0
