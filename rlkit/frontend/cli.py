"""The `rlkit` command: a tiny dispatcher that pops the subcommand and hands the rest of argv to Hydra.

Before Hydra runs, the overrides are composed once (rlkit.frontend.compose): a wrong name, key or type gets
one clear line with the valid choices instead of a stack trace.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import warnings
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from rlkit.core.commands import command
from rlkit.core.config import TrainConfig
from rlkit.core.diskio import writable_dir
from rlkit.core.errors import UserError, show_warning
from rlkit.core.headline import RETURN, Headline, headline_line
from rlkit.core.interrupts import STOP_SIGNALS, forget_stop_signal, sigterm_as_ctrl_c, stop_signal
from rlkit.frontend.app import train, validate
from rlkit.frontend.bench import main as bench_main
from rlkit.frontend.checks import split_flags
from rlkit.frontend.compose import compose_config, rewrite_overrides
from rlkit.frontend.data_command import data_command, data_help
from rlkit.frontend.eval_command import eval_command
from rlkit.frontend.keyargs import command_help
from rlkit.frontend.options import GROUPS, group_options
from rlkit.frontend.play import play_command
from rlkit.frontend.rundir import check_new_run_dir, holds_run, hydra_value, locked_run_dir, resolve_run_dir
from rlkit.frontend.sweep import main as sweep_main

SUBCOMMANDS = {
    "train": "train an agent on an env (Hydra overrides: agent=..., env=..., any.key=value)",
    "play": "watch a run's greedy policy (or env=<env> at random): terminal animation, GIF/MP4",
    "eval": "score a run's checkpoint over greedy episodes: a table and eval.json",
    "bench": "compare agents on one env, same budget and seeds: table, results.json, learning curves",
    "data": "make pix2pix A|B folders from any image folder: the book's process.py operations (data --help)",
    "sweep": "grid or random search over train overrides x seeds on Ray: IQM with CIs, curves, results.csv",
}


def main_help() -> str:
    """Text of `rlkit --help`."""
    lines = ["usage: rlkit <command> [overrides...]", "", "commands:"]
    lines += [f"  {name:<10} {text}" for name, text in SUBCOMMANDS.items()]
    lines += ["", "Run `rlkit <command> --help` for its options.", ""] + _groups_help()
    return "\n".join(lines)


def train_help() -> str:
    """Text of `rlkit train --help`: groups, their options, the top-level keys and examples."""
    keys = OmegaConf.to_yaml(OmegaConf.structured(TrainConfig)).splitlines()
    keys = [ln for ln in keys if not ln.startswith(("agent:", "env:", "  name:", "  id:"))]
    lines = [
        "usage: rlkit train [group=option ...] [key=value ...] [hydra.run.dir=DIR]",
        "",
        "Every run writes runs/<date>/<time>_<agent>_<env>/ with the resolved config (.hydra/),",
        "TensorBoard events, metrics.jsonl, checkpoints/ and summary.json.",
        "",
        *_groups_help(),
        "",
        "top-level keys (defaults):",
        *[f"  {ln}" for ln in keys if ln.strip() and "???" not in ln],
        "",
        "examples:",
        "  rlkit train                                    # Q-learning on the book's maze, 200 episodes",
        "  rlkit train agent=sarsa env=maze_traps agent.epsilon=0.2 total_steps=20000 seed=3",
        "  rlkit train agent=q_learning env=FrozenLake-v1 env.kwargs.is_slippery=false",
        "  rlkit train +experiment=book_sarsa env=maze_traps",
        "  rlkit train --cfg job                          # print the composed config and exit",
    ]
    return "\n".join(lines)


def _groups_help() -> list[str]:
    lines = []
    for group in GROUPS:
        prefix = "+" if group == "experiment" else ""
        lines.append(f"{group}s ({prefix}{group}=NAME):")
        lines += [f"  {name:<16} {text}" for name, text in group_options(group).items()]
        if group == "env":
            lines.append(
                f"  {'<Gymnasium id>':<16} any registered id, e.g. env=FrozenLake-v1 env.kwargs.map_name=8x8"
            )
    return lines


def _train(overrides: list[str]) -> int:

    result: dict = {}

    @hydra.main(config_path="pkg://rlkit.configs", config_name="train", version_base="1.3")
    def _run(cfg: DictConfig) -> None:
        try:
            result.update(train(cfg, Path(HydraConfig.get().runtime.output_dir)))
        except UserError as err:  # Hydra would print a stack trace for it
            result["error"] = err

    flags, overrides = split_flags(overrides)  # argparse takes the overrides in one piece, before the flags
    if flags:  # --cfg, --info (checks.check_flags): Hydra prints, nothing is trained or written
        sys.argv = ["rlkit", "hydra.job.name=train", *overrides, *flags]  # flags last: `--info` alone works
        _run()
    else:
        if any(
            a.lstrip("+").startswith("hydra.run.dir=") and not a.partition("=")[2].strip() for a in overrides
        ):
            raise UserError("hydra.run.dir= is empty: give a folder, e.g. hydra.run.dir=runs/mine")
        run_dir = resolve_run_dir(overrides)
        created = not os.path.lexists(run_dir)  # (a name too long: False; writable_dir says what is wrong)
        writable_dir(run_dir, "hydra.run.dir")  # not a file, not read-only, a name the system takes
        if not any(a.startswith("resume=") for a in overrides) and not holds_run(run_dir):
            check_new_run_dir(run_dir)  # other files there: refused before a lock file is made among them
        with locked_run_dir(run_dir):  # before Hydra writes .hydra/, so a refused run leaves it alone
            sys.argv = ["rlkit", "hydra.job.name=train", *_settled_overrides(overrides, run_dir)]
            _run()
            if "error" in result and created and not holds_run(run_dir):  # refused before training began
                shutil.rmtree(run_dir, ignore_errors=True)  # (e.g. an agent that does not fit the env)
    if "error" in result:
        raise result["error"]
    if result:
        _print_summary(result)
    return 0


def _final_eval_line(s: dict) -> str:
    """RL: the greedy episodes' return; a task with its own headline (rlkit.core.headline): that first."""
    ev, headline = s["final_eval"], Headline.from_record(s.get("headline"))
    if headline.key != RETURN.key:
        return f"Final evaluation: {headline_line(ev, headline)}"
    return (
        f"Final greedy evaluation ({ev['episodes']} episode{'s' * (ev['episodes'] != 1)}): "
        f"return {ev['return_mean']:.2f} ± {ev['return_std']:.2f}, mean length {ev['length_mean']:.1f}"
    )


def _print_summary(s: dict) -> None:
    run_dir = Path(s["run_dir"])
    if run_dir.is_relative_to(Path.cwd()):
        run_dir = run_dir.relative_to(Path.cwd())
    stop = " (stop condition reached)" if s["stopped_early"] else ""
    session = s.get("session_steps", s["steps"])
    resumed = f" ({session:,} since the resume)" if s["resumed"] else ""
    print(
        f"\nDone{stop}: {s['agent']} on {s['env']}: {s['episodes']:,} episodes, "
        f"{s['steps']:,} steps{resumed} in {s['wall_time_s']:.1f} s "
        f"({session / max(s['wall_time_s'], 1e-9):,.0f} steps/s)\n"
        f"{_final_eval_line(s)}\n"
        f"Run directory: {run_dir}\n"
        f"TensorBoard:   {command('tensorboard')} --logdir {shlex.quote(str(run_dir))}",
        flush=True,
    )


def _settled_overrides(overrides: list[str], run_dir: Path) -> list[str]:
    """The overrides Hydra runs with, once `run_dir` is locked: a new run must not write into another run's
    directory; a resumed run keeps the .hydra/ its first run wrote (Hydra writes none: output_subdir=null)."""
    resumed = any(a.startswith("resume=") for a in overrides)
    if not resumed:
        check_new_run_dir(run_dir)
    replaced = ("hydra.run.dir=", "hydra.output_subdir=") if resumed else ("hydra.run.dir=",)
    kept = [a for a in overrides if not a.lstrip("+").startswith(replaced)]
    return [*kept, f"hydra.run.dir={hydra_value(str(run_dir))}", *(["hydra.output_subdir=null"] * resumed)]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rlkit` console script."""
    own_process = argv is None  # the console script, not a caller in its own process (tests, notebooks)
    argv = list(sys.argv[1:] if argv is None else argv)
    warnings.showwarning = show_warning
    command, rest = (argv[0], argv[1:]) if argv else ("--help", [])
    forget_stop_signal()
    try:
        with sigterm_as_ctrl_c():  # `kill <pid>` (SIGTERM) stops a run as Ctrl-C does: checkpoint, resume
            return _dispatch(command, rest)
    except UserError as err:
        print(f"rlkit: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # the runner says what it saved; elsewhere nothing was
        if own_process:  # stopping anyway: a further Ctrl-C must not print a traceback from atexit
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_IGN)
        stopped = stop_signal()
        what = "interrupted" if stopped == signal.SIGINT else f"terminated ({stopped.name})"
        print(f"rlkit: {what}{'; ' + str(err) if str(err) else ''}", file=sys.stderr)
        return 128 + stopped  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports them
    except BrokenPipeError:  # e.g. `rlkit --help | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (Python flushes stdout at exit)
        return 0


NOT_PATHS = ("prime", "input")  # play's text; input= expands each of its comma-separated paths itself


def home_expanded(args: list[str], quote: bool = False) -> list[str]:
    """`key=~/path` (and `~user/path`) with the home folder put in, as a shell does for `VAR=~/path` but not
    for `hydra.run.dir=~/path`: so `hydra.run.dir=~/x`, `resume=~/x`, `run=~/x` name a folder in the home
    folder, not a `~` folder (Hydra's grammar would refuse it). With `quote`, as a Hydra override value."""
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and value.startswith("~") and key.lstrip("+") not in NOT_PATHS:
            home = os.path.expanduser(value)
            arg = f"{key}={hydra_value(home) if quote else home}"
        out.append(arg)
    return out


def _dispatch(command: str, rest: list[str]) -> int:
    """Runs one subcommand with its arguments; its exit status."""
    if command in ("-h", "--help", "help"):
        print(main_help())
        return 0
    if command not in SUBCOMMANDS:
        raise UserError(f"unknown command '{command}'; valid commands: {', '.join(SUBCOMMANDS)}")
    rest = home_expanded(rest, quote=command == "train")
    if command == "bench":
        return bench_main(rest)
    if command == "sweep":
        return sweep_main(rest)
    if "-h" in rest or "--help" in rest:  # (bench and sweep answer it themselves)
        helps = {"data": data_help, "train": train_help}
        print(helps[command]() if command in helps else command_help(command))
        return 0
    if command == "data":
        return data_command(rest)
    if command == "play":
        return play_command(rest)
    if command == "eval":
        return eval_command(rest)
    validate(compose_config(rest))  # fails here, in one line, on a bad name, key, type or range
    return _train(rewrite_overrides(rest))


if __name__ == "__main__":
    sys.exit(main())
