"""Checks of `rlkit train` arguments that Hydra would answer with a stack trace or not at all: each failure is
one line naming the problem and the valid choices (a UserError)."""

from __future__ import annotations

from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import DictConfig, OmegaConf

from rlkit.core.errors import UserError, invalid_choice
from rlkit.frontend.options import close_matches

EXTENSION_POINTS = ("env.kwargs.", "env.eval_kwargs.", "agent.hyperparams.")  # keys that may be added


HYDRA_FLAGS_WITH_VALUE = ("--cfg", "-c", "--package", "-p", "--config-name", "-cn", "--config-path", "-cp")
HYDRA_FLAGS_WITH_VALUE += ("--config-dir", "-cd", "--experimental-rerun", "--info", "-i")


def split_flags(args: list[str]) -> tuple[list[str], list[str]]:
    """(Hydra's flags with their values, e.g. `--cfg job`; the overrides), each in the given order."""
    flags, overrides = [], []
    for i, arg in enumerate(args):
        is_value = i > 0 and args[i - 1] in HYDRA_FLAGS_WITH_VALUE and "=" not in arg and arg[:1] not in "-~"
        (flags if arg.startswith("-") or is_value else overrides).append(arg)
    return flags, overrides


def unknown_key_error(key: str, cfg: DictConfig) -> UserError:
    """An unknown key: the closest known ones and the valid keys beside it."""
    known = []

    def walk(node: Any, prefix: str) -> None:
        for name in node:
            known.append(prefix + str(name))
            if OmegaConf.is_dict(node._get_node(name)):
                walk(node[name], f"{prefix}{name}.")

    walk(cfg, "")
    parent = key.rpartition(".")[0]
    node = OmegaConf.select(cfg, parent) if parent else cfg
    siblings = sorted(str(k) for k in node) if OmegaConf.is_dict(node) else []
    beside = [f"{parent}.{k}" if parent else k for k in siblings]
    close = close_matches(key, beside) or close_matches(key, known)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    where = f" in {parent}" if parent else ""
    extend = f" (`+` adds keys only under {', '.join(p + '*' for p in EXTENSION_POINTS)})"
    return UserError(f"unknown key '{key}'.{hint} Valid keys{where}: {', '.join(siblings)}{extend}")


KNOWN_FLAGS = (*HYDRA_FLAGS_WITH_VALUE, "--resolve", "--multirun", "-m", "--run", "-r", "--hydra-help")
KNOWN_FLAGS += ("--version", "--shell-completion", "-sc")
CFG_CHOICES = ("job", "hydra", "all")
INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")
TRAIN_FLAGS = f"--cfg {'|'.join(CFG_CHOICES)} [--resolve] [--package KEY], --info [{'|'.join(INFO_CHOICES)}]"
SWEEP_ADVICE = (
    "rlkit train runs one config; to sweep, loop (for s in 0 1 2; do rlkit train seed=$s; done), "
    "or use rlkit sweep (configurations x seeds) or rlkit bench (agents compared over seeds)"
)
ALIASES = {
    "-c": "--cfg",
    "-p": "--package",
    "-i": "--info",
    "-m": "--multirun",
    "-r": "--run",
    "-sc": "--shell-completion",
}
ALIASES |= {"-cn": "--config-name", "-cp": "--config-path", "-cd": "--config-dir"}
REFUSED_FLAGS = {  # Hydra's flags that rlkit train does not take, and what to do instead
    "--multirun": SWEEP_ADVICE,
    "--config-name": "its config is always rlkit's train.yaml: choose agent=, env= and +experiment=",
    "--config-path": "its config is always rlkit's train.yaml: choose agent=, env= and +experiment=",
    "--config-dir": "add a config folder with 'hydra.searchpath=[file:///absolute/folder]'",
}


def check_flags(flags: list[str]) -> None:
    """The flags of `rlkit train` (split_flags) are Hydra's printing flags with valid values, else one line:
    a run is always one run of rlkit's own config, in a directory rlkit checks and locks."""
    given: dict[str, str | None] = {}
    for i, arg in enumerate(flags):
        if not arg.startswith("-"):
            continue  # the value of the flag before it
        name, sep, value = arg.partition("=")
        if name not in KNOWN_FLAGS:
            raise UserError(f"unknown option '{arg}': options are key=value, e.g. agent=dqn")
        follows = flags[i + 1] if i + 1 < len(flags) and not flags[i + 1].startswith("-") else None
        given[ALIASES.get(name, name)] = value if sep else follows
    for name in given:
        if name in REFUSED_FLAGS:
            raise UserError(f"{name} is not an option of rlkit train: {REFUSED_FLAGS[name]}")
        if name not in ("--cfg", "--resolve", "--package", "--info"):
            raise UserError(
                f"{name} is not an option of rlkit train; its options are key=value, and {TRAIN_FLAGS} to "
                "print the config instead of training"
            )
    if "--cfg" in given and given["--cfg"] not in CFG_CHOICES:
        raise invalid_choice(f"--cfg {given['--cfg'] or '(no value)'}", CFG_CHOICES)
    if given.get("--info") not in (None, *INFO_CHOICES):  # --info alone is --info all
        raise invalid_choice(f"--info {given['--info']}", INFO_CHOICES)
    for name in ("--resolve", "--package"):
        if name in given and "--cfg" not in given:
            raise UserError(f"{name} goes with --cfg {'|'.join(CFG_CHOICES)} (which prints the config)")
    if "--package" in given and not given["--package"]:
        raise UserError("--package needs a value: the config key to print, e.g. --cfg job --package agent")


def check_syntax(args: list[str]) -> None:
    """Every argument is key=value (or one of the flags check_flags takes) that Hydra's grammar parses, else
    one line."""
    flags, overrides = split_flags(args)
    check_flags(flags)
    parser = OverridesParser.create()
    for arg in overrides:
        if arg.startswith(("=", "resume=")):  # rewrite_overrides says what is missing; resume= is rlkit's own
            continue
        if "=" not in arg and not arg.startswith("~"):
            raise UserError(f"'{arg}' is not an option: options are key=value, e.g. agent=dqn")
        try:
            parser.parse_overrides([arg])
        except OverrideParseException as err:
            reason = str(err).splitlines()[-2 if "\n" in str(err) else 0].strip()
            if reason.startswith("^"):  # the lexer's caret under the character it does not take
                first, caret = str(err).splitlines()[:2]
                char = arg[caret.index("^") - (len(first) - len(arg))]
                reason = f"Hydra's grammar does not take {char!r} there: quote the value, e.g. key='a{char}b'"
            if not arg.isascii():
                reason = "quote a value with non-ASCII characters, e.g. 'hydra.run.dir=\"runs/é\"'"
            raise UserError(f"cannot parse '{arg}': {reason}") from None


PIXEL_AGENTS = ("dqn", "reinforce")  # agents whose CNN expects the Atari preset's stacked 84x84 frames


def check_raw_atari(cfg: DictConfig) -> None:
    """A pixel agent on a raw `ALE/<Game>-v5` id (210x160 RGB, no preprocessing) is pointed to env=<Game>."""
    env_id, kwargs = str(cfg.env.id), cfg.env.kwargs or {}
    if not env_id.startswith("ALE/") or "-ram" in env_id or kwargs.get("obs_type") == "ram":
        return
    if cfg.agent.name in PIXEL_AGENTS:
        game = env_id[len("ALE/") :].rsplit("-v", 1)[0]
        raise UserError(
            f"env={env_id} gives raw 210x160 RGB frames, which agent '{cfg.agent.name}' cannot learn from; "
            f"use env={game} (the Atari preset: no-op starts, frame skip 4, 84x84 grey, 4 stacked frames)"
        )
