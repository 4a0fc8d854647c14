"""From command-line overrides to a composed config: choices checked, shorthands expanded, errors in one line.

`env=<Gymnasium id>` becomes `env=gym env.id=<id>`, `env=<ALE game>` (Breakout, Pong, ...) becomes
`env=atari env.kwargs.game=<game>`; `env.kwargs.<name>=value` may add a constructor argument.
Tests and benchmarks use `compose_config` to get exactly the config that `rlkit train ...` would run.
"""

from __future__ import annotations

import re
from pathlib import Path

from hydra import compose, initialize_config_module
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rlkit.core.errors import UserError
from rlkit.envs.factory import registered_ids
from rlkit.frontend.checks import (
    EXTENSION_POINTS,
    SWEEP_ADVICE,
    check_raw_atari,
    check_syntax,
    split_flags,
    unknown_key_error,
)
from rlkit.frontend.options import GROUPS, SEARCHPATH, choice_error, group_options
from rlkit.frontend.rundir import MOVED_KEYS, resume_overrides
from rlkit.frontend.schemas import register_run_schemas, store_agent_schema

# env.kwargs that name a file or folder: stored absolute in the run's config
PATH_KEYS = ("path", "data_dir", "root")
E_NOTATION = re.compile(r"[+-]?\d+(\.\d*)?[eE]\+?\d+")


def rewrite_overrides(args: list[str]) -> list[str]:
    """Checks group choices and expands the shorthands (env=<Gymnasium id>, env.kwargs.<name>=value)."""
    out = []
    for arg in resume_overrides(args):
        key, sep, value = arg.partition("=")
        bare = key.lstrip("+~")
        if not sep or arg.startswith("-"):
            out.append(arg)
        elif not bare:
            raise UserError(f"'{arg}' has no key before '='; write key=value (e.g. agent=sarsa)")
        elif bare == "agent._target_":
            raise UserError(
                "agent._target_ is not an option: an agent's class comes from its YAML; choose agent=<name> "
                "(README: Adding an agent)"
            )
        elif bare == "eval":  # a section (configs/eval/ holds the agents' cadences, chosen by their YAMLs)
            raise UserError(
                f"'{arg}': eval is a section, not an option; set its keys, e.g. eval.every=5000 "
                "(keys: eval.every, eval.episodes, eval.max_episode_steps)"
            )
        elif bare in MOVED_KEYS:
            raise UserError(f"{bare}= is no longer a key: use {MOVED_KEYS[bare]}={value} instead")
        elif bare == "agent" and value not in group_options("agent", args):
            raise choice_error("agent", value, args=args)
        elif bare == "experiment" and value not in group_options("experiment", args):
            raise choice_error("experiment", value, args=args)
        elif bare == "env" and value not in group_options("env", args) and value in _atari_games():
            out += ["env=atari", f"env.kwargs.game={value}"]
        elif bare == "env" and value not in group_options("env", args):
            if value not in registered_ids():
                raise choice_error("env", value, also=registered_ids() + sorted(_atari_games()), args=args)
            out += ["env=gym", f"env.id={value}", f"env.name={value.replace('/', '_')}"]
        elif bare.startswith(EXTENSION_POINTS):
            if bare.rpartition(".")[2] in PATH_KEYS and value not in ("null", ""):
                value = str(Path(value).expanduser().absolute())  # so play and resume find it from anywhere
            out.append(f"++{bare}={value}")
        elif key.startswith("+") and bare != "experiment" and not bare.startswith("hydra."):
            # `+` adds keys only at the extension points: an unknown key fails like one without it
            out.append(f"{bare}={_integral(value)}")
        else:
            out.append(f"{key}={_integral(value)}" if not key.startswith(("~", "hydra.")) else arg)
    return out


def _integral(value: str) -> str:
    """`1e5` as `100000`, so an integer key takes it; other values unchanged."""
    if E_NOTATION.fullmatch(value) and float(value).is_integer() and abs(float(value)) < 2**53:
        return str(int(float(value)))
    return value


def _atari_games() -> dict[str, str]:
    """ALE game names (Breakout, Pong, ...) that `env=<game>` accepts as the Atari preset."""
    from rlkit.envs.atari import ale_games  # ale_py (heavy, loads the ROMs): only for an unknown env name

    return ale_games()


def _hydra_setting(arg: str) -> bool:
    """A `hydra.*` override that only `rlkit train` itself takes (run dir, logging), not the composed config;
    `hydra.searchpath` is kept: it adds config folders (rlkit.frontend.options)."""
    return arg.lstrip("+~").startswith("hydra") and not arg.lstrip("+").startswith(SEARCHPATH)


def compose_config(overrides: list[str]) -> DictConfig:
    """The config `rlkit train <overrides>` runs (Hydra's own `hydra.*` settings aside), or a UserError."""
    check_syntax(overrides)
    plain = [o for o in split_flags(rewrite_overrides(overrides))[1] if not _hydra_setting(o)]
    cfg = _compose(plain)
    check_raw_atari(cfg)
    return cfg


def _compose(plain: list[str]) -> DictConfig:
    """Hydra's compose with every interpolation resolved once (so ${oc.env:NOPE} fails here, in one line).

    Composed twice: first without the agent's schema, to learn the chosen agent and its `_target_` class; then
    with that class's Config stored as the schema (rlkit.frontend.schemas), so keys and types are checked.
    """
    register_run_schemas()
    try:
        with initialize_config_module(config_module="rlkit.configs", version_base="1.3"):
            choices = [o for o in plain if o.lstrip("+~").partition("=")[0].partition("@")[0] in GROUPS]
            choices += [o for o in plain if o.lstrip("+").startswith(SEARCHPATH)]
            untyped = compose("train", overrides=choices, return_hydra_config=True)
            store_agent_schema(untyped.hydra.runtime.choices.agent, untyped.agent)
            cfg = compose("train", overrides=plain)
        OmegaConf.to_container(cfg, resolve=True)
        return cfg
    except (HydraException, OmegaConfBaseException) as err:
        found = re.search(r"Could not override '([^']+)'", _compose_message(err))
        if found is None:
            raise UserError(_compose_message(err)) from err
        key = found.group(1)
        raise unknown_key_error(key, _compose([o for o in plain if o.partition("=")[0] != key])) from None


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
    text = "invalid config: " + "; ".join(seen[:4])
    return text.replace("To sweep over it, add --multirun to your command line", SWEEP_ADVICE)
