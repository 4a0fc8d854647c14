"""Checks of `rlkit train` arguments that Hydra would answer with a stack trace or not at all: each failure is
one line naming the problem and the valid choices (a UserError)."""

from __future__ import annotations

from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import DictConfig, OmegaConf

from rlkit.core.errors import UserError
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


def check_syntax(args: list[str]) -> None:
    """Every argument is key=value (or one of Hydra's flags) that Hydra's grammar parses, else one line."""
    flags, overrides = split_flags(args)
    for flag in flags:
        if flag.startswith("-") and flag.partition("=")[0] not in KNOWN_FLAGS:
            raise UserError(f"unknown option '{flag}': options are key=value, e.g. agent=dqn")
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
