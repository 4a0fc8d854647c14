"""From command-line overrides to a composed config: choices checked, shorthands expanded, errors in one line.

`env=<Gymnasium id>` becomes `env=gym env.id=<id>`, `env=<ALE game>` (Breakout, Pong, ...) becomes
`env=atari env.kwargs.game=<game>`; `env.kwargs.<name>=value` may add a constructor argument.
Tests and benchmarks use `compose_config` to get exactly the config that `rlkit train ...` would run.
"""

from __future__ import annotations

import difflib
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlkit.core.errors import UserError
from rlkit.frontend.rundir import hydra_value
from rlkit.frontend.schemas import register_run_schemas, store_agent_schema

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


def _choice_error(group: str, value: str, also: list[str] | None = None) -> UserError:
    """Unknown option: the valid ones, and the closest name (among `also` too, e.g. Gymnasium ids)."""
    options = sorted(group_options(group))
    close = close_matches(value, options + (also or []))
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    tail = ", any Atari game (e.g. Breakout, Pong), or any registered Gymnasium id (e.g. FrozenLake-v1)"
    tail = tail if also else ""
    return UserError(f"unknown {group} '{value}'.{hint} Valid {group}s: {', '.join(options)}{tail}")


def close_matches(value: str, choices: list[str], n: int = 3) -> list[str]:
    """The choices closest to `value`, ignoring case (agent=DQN -> dqn, env=cartpole-v1 -> CartPole-v1)."""
    lowered: dict[str, str] = {}
    for choice in choices:
        lowered.setdefault(choice.lower(), choice)
    return [lowered[c] for c in difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.6)]


RESUME_MAY_CHANGE = ("ui=", "hydra.")


def resume_overrides(args: list[str]) -> list[str]:
    """`resume=DIR [ui=...]` becomes the run's original overrides, its directory, and `resume=DIR`.

    A resumed run keeps its original config; only the display (ui=) may change.
    """
    resume = [a for a in args if a.startswith("resume=")]
    if not resume:
        return args
    run_dir = Path(resume[-1].partition("=")[2]).expanduser().resolve()
    saved = run_dir / ".hydra" / "overrides.yaml"
    if not run_dir.is_dir():
        raise UserError(f"resume={run_dir}: no such run directory")
    if not saved.is_file():
        raise UserError(f"resume={run_dir}: not a run directory of `rlkit train` (no .hydra/overrides.yaml)")
    if not any((run_dir / "checkpoints").glob("*.pt")):
        raise UserError(
            f"resume={run_dir}: the run holds no checkpoint to continue from (it stopped before its first); "
            "delete it and train again, or train into another directory"
        )
    others = [a for a in args if not a.startswith(("resume=", *RESUME_MAY_CHANGE))]
    if others:
        raise UserError(
            f"resume continues a run with its original config; these overrides are not allowed with it: "
            f"{' '.join(others)} (only ui=... may change)"
        )
    extra = [a for a in args if a.startswith(RESUME_MAY_CHANGE)]
    replaced = ("resume=", "hydra.run.dir=", *(a.partition("=")[0] + "=" for a in extra))
    original = [upgrade_override(str(a)) for a in (OmegaConf.load(saved) or [])]
    original = [a for a in original if not a.startswith(replaced)]
    value = hydra_value(str(run_dir))
    return [*original, *extra, f"hydra.run.dir={value}", f"resume={value}"]


MOVED_KEYS = {"agent.num_threads": "num_threads"}  # old key -> the key that replaced it


def upgrade_override(arg: str) -> str:
    """An override saved by an older rlkit (a run's .hydra/overrides.yaml) with today's key names."""
    key, sep, value = arg.partition("=")
    bare = key.lstrip("+~")
    return f"{MOVED_KEYS[bare]}={value}" if sep and bare in MOVED_KEYS else arg


def upgrade_saved_config(saved: DictConfig) -> DictConfig:
    """A run's saved .hydra/config.yaml from an older rlkit with today's key names (moved values kept)."""
    for old, new in MOVED_KEYS.items():
        parent, _, leaf = old.rpartition(".")
        node = OmegaConf.select(saved, parent)
        if isinstance(node, DictConfig) and leaf in node:
            value = node.pop(leaf)
            if OmegaConf.select(saved, new) is None:
                OmegaConf.update(saved, new, value, force_add=True)
    return saved


PATH_KEYS = ("path", "data_dir")  # env.kwargs that name a file or folder: stored absolute in the run's config
EXTENSION_POINTS = ("env.kwargs.", "env.eval_kwargs.", "agent.hyperparams.")  # keys that may be added
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
        elif bare in MOVED_KEYS:
            raise UserError(f"{bare}= is no longer a key: use {MOVED_KEYS[bare]}={value} instead")
        elif bare == "agent" and value not in group_options("agent"):
            raise _choice_error("agent", value)
        elif bare == "experiment" and value not in group_options("experiment"):
            raise _choice_error("experiment", value)
        elif bare == "env" and value not in group_options("env") and value in _atari_games():
            out += ["env=atari", f"env.kwargs.game={value}"]
        elif bare == "env" and value not in group_options("env"):
            from rlkit.envs.factory import registered_ids

            if value not in registered_ids():
                raise _choice_error("env", value, also=registered_ids() + sorted(_atari_games()))
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
    from rlkit.envs.atari import ale_games

    return ale_games()


HYDRA_FLAGS_WITH_VALUE = ("--cfg", "-c", "--package", "-p", "--config-name", "-cn", "--config-path", "-cp")
HYDRA_FLAGS_WITH_VALUE += ("--config-dir", "-cd", "--experimental-rerun", "--info", "-i")


def split_flags(args: list[str]) -> tuple[list[str], list[str]]:
    """(Hydra's flags with their values, e.g. `--cfg job`; the overrides), each in the given order."""
    flags, overrides = [], []
    for i, arg in enumerate(args):
        is_value = i > 0 and args[i - 1] in HYDRA_FLAGS_WITH_VALUE and "=" not in arg and arg[:1] not in "-~"
        (flags if arg.startswith("-") or is_value else overrides).append(arg)
    return flags, overrides


def compose_config(overrides: list[str]) -> DictConfig:
    """The config `rlkit train <overrides>` runs (Hydra's own `hydra.*` settings aside), or a UserError."""
    check_syntax(overrides)
    plain = [
        o for o in split_flags(rewrite_overrides(overrides))[1] if not o.lstrip("+~").startswith("hydra")
    ]
    cfg = _compose(plain)
    check_raw_atari(cfg)
    return cfg


def _compose(plain: list[str]) -> DictConfig:
    """Hydra's compose with every interpolation resolved once (so ${oc.env:NOPE} fails here, in one line).

    Composed twice: first without the agent's schema, to learn the chosen agent and its `_target_` class; then
    with that class's Config stored as the schema (rlkit.frontend.schemas), so keys and types are checked.
    """
    from hydra import compose, initialize_config_module
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register_run_schemas()
    try:
        with initialize_config_module(config_module="rlkit.configs", version_base="1.3"):
            choices = [o for o in plain if o.lstrip("+~").partition("=")[0].partition("@")[0] in GROUPS]
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
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

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


SWEEP_ADVICE = (
    "rlkit train runs one config; to sweep, loop (for s in 0 1 2; do rlkit train seed=$s; done), "
    "or compare agents over seeds with rlkit bench"
)
