"""From command-line overrides to a composed config: choices checked, shorthands expanded, errors in one line.

`env=<Gymnasium id>` becomes `env=gym env.id=<id>`, `env=<ALE game>` (Breakout, Pong, ...) becomes
`env=atari env.kwargs.game=<game>`; `env.kwargs.<name>=value` may add a constructor argument.
Tests and benchmarks use `compose_config` to get exactly the config that `rlkit train ...` would run.
"""

from __future__ import annotations

import difflib
from importlib.resources import files
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from rlkit.core.errors import UserError

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
    close = difflib.get_close_matches(value, options + (also or []), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    tail = ", any Atari game (e.g. Breakout, Pong), or any registered Gymnasium id (e.g. FrozenLake-v1)"
    tail = tail if also else ""
    return UserError(f"unknown {group} '{value}'.{hint} Valid {group}s: {', '.join(options)}{tail}")


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
        raise UserError(f"resume={run_dir}: the run holds no checkpoint to continue from")
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
    return [*original, *extra, f"hydra.run.dir={run_dir}", f"resume={run_dir}"]


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
        elif key.startswith(("env.kwargs.", "env.eval_kwargs.", "agent.hyperparams.")):
            if key.rpartition(".")[2] in PATH_KEYS and value not in ("null", ""):
                value = str(Path(value).expanduser().absolute())  # so play and resume find it from anywhere
            out.append(f"++{key}={value}")
        else:
            out.append(arg)
    return out


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
    from hydra import compose, initialize_config_module
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    import rlkit.frontend.app  # noqa: F401  (registers the config schemas)

    plain = [
        o for o in split_flags(rewrite_overrides(overrides))[1] if not o.lstrip("+~").startswith("hydra")
    ]
    try:
        with initialize_config_module(config_module="rlkit.configs", version_base="1.3"):
            return compose("train", overrides=plain)
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
