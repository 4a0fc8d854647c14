"""The `rlkit` command: a tiny dispatcher that pops the subcommand and hands the rest of argv to Hydra.

Before Hydra runs, the overrides are checked by composing them once with Hydra's compose API, so a wrong name,
key or type gets one clear line (with the valid choices) instead of a stack trace; `env=<Gymnasium id>` is
rewritten to `env=gym env.id=<id>`, and `env.kwargs.<name>=value` may add new constructor arguments.
"""

from __future__ import annotations

import difflib
import sys
from importlib.resources import files
from pathlib import Path

from rlkit.errors import UserError

SUBCOMMANDS = {"train": "train an agent on an env (Hydra overrides: agent=..., env=..., any.key=value)"}
GROUPS = ("agent", "env", "experiment")


def group_options(group: str) -> dict[str, str]:
    """Option name -> its one-line description (the first comment line of its YAML file)."""
    out = {}
    for path in sorted(files("rlkit.configs").joinpath(group).iterdir(), key=lambda p: p.name):
        if path.name.endswith(".yaml"):
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("# ")]
            text = next((ln[2:] for ln in lines if not ln.startswith("# @package")), "")
            out[path.name[: -len(".yaml")]] = text
    return out


def _choice_error(group: str, value: str, extra: str = "") -> UserError:
    options = sorted(group_options(group))
    close = difflib.get_close_matches(value, options, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return UserError(f"unknown {group} '{value}'.{hint} Valid {group}s: {', '.join(options)}{extra}")


def rewrite_overrides(args: list[str]) -> list[str]:
    """Checks group choices and expands the shorthands (env=<Gymnasium id>, env.kwargs.<name>=value)."""
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        bare = key.lstrip("+~")
        if not sep or arg.startswith("-"):
            out.append(arg)
        elif bare == "agent" and value not in group_options("agent"):
            raise _choice_error("agent", value)
        elif bare == "experiment" and value not in group_options("experiment"):
            raise _choice_error("experiment", value)
        elif bare == "env" and value not in group_options("env"):
            from rlkit.envs.factory import check_env_id

            try:
                check_env_id(value)
            except UserError as err:
                raise _choice_error(
                    "env", value, ", or any registered Gymnasium id (e.g. FrozenLake-v1)"
                ) from err
            out += ["env=gym", f"env.id={value}", f"env.name={value.replace('/', '_')}"]
        elif key.startswith("env.kwargs."):
            out.append(f"++{arg}")
        else:
            out.append(arg)
    return out


def check_compose(overrides: list[str]) -> None:
    """Composes the config once so that unknown keys and wrong types fail here, naming the key."""
    from hydra import compose, initialize_config_module
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    import rlkit.app  # noqa: F401  (registers the config schemas)

    plain = [o for o in overrides if not o.startswith("-") and not o.lstrip("+~").startswith("hydra")]
    try:
        with initialize_config_module(config_module="rlkit.configs", version_base="1.3"):
            compose("train", overrides=plain)
    except (HydraException, OmegaConfBaseException) as err:
        raise UserError(_compose_message(err)) from err


def _compose_message(err: BaseException) -> str:
    """One line out of Hydra's and OmegaConf's multi-line messages, keeping the key and the reason."""
    parts = []
    while err is not None:
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        parts += [
            ln for ln in lines if not ln.startswith(("reference_type", "object_type", "Config search path"))
        ]
        err = err.__cause__
    seen = []
    for part in parts:
        if part not in seen:
            seen.append(part)
    return "invalid config: " + "; ".join(seen[:4])


def main_help() -> str:
    """Text of `rlkit --help`."""
    lines = ["usage: rlkit <command> [overrides...]", "", "commands:"]
    lines += [f"  {name:<10} {text}" for name, text in SUBCOMMANDS.items()]
    lines += ["", "Run `rlkit <command> --help` for its options.", ""] + _groups_help()
    return "\n".join(lines)


def train_help() -> str:
    """Text of `rlkit train --help`: groups, their options, the top-level keys and examples."""
    from omegaconf import OmegaConf

    from rlkit.config import TrainConfig

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
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import DictConfig

    from rlkit.app import train

    result: dict = {}

    @hydra.main(config_path="pkg://rlkit.configs", config_name="train", version_base="1.3")
    def _run(cfg: DictConfig) -> None:
        try:
            result.update(train(cfg, Path(HydraConfig.get().runtime.output_dir)))
        except UserError as err:  # Hydra would print a stack trace for it
            result["error"] = err

    sys.argv = ["rlkit", "hydra.job.name=train", *overrides]
    _run()
    if "error" in result:
        raise result["error"]
    if result:
        _print_summary(result)
    return 0


def _print_summary(s: dict) -> None:
    ev = s["final_eval"]
    stop = " (stop condition reached)" if s["stopped_early"] else ""
    print(
        f"\nDone{stop}: {s['agent']} on {s['env']}: {s['episodes']:,} episodes, {s['steps']:,} steps "
        f"in {s['wall_time_s']:.1f} s\n"
        f"Final greedy evaluation ({ev['episodes']} episodes): return {ev['return_mean']:.2f} "
        f"± {ev['return_std']:.2f}, mean length {ev['length_mean']:.1f}\n"
        f"Run directory: {s['run_dir']}\n"
        f"TensorBoard:   tensorboard --logdir {s['run_dir']}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rlkit` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(main_help())
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command not in SUBCOMMANDS:
            raise UserError(f"unknown command '{command}'; valid commands: {', '.join(SUBCOMMANDS)}")
        if "-h" in rest or "--help" in rest:
            print(train_help())
            return 0
        overrides = rewrite_overrides(rest)
        check_compose(overrides)
        return _train(overrides)
    except UserError as err:
        print(f"rlkit: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rlkit: interrupted; the latest checkpoint was saved in the run directory", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
