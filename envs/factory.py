"""Builds Gymnasium envs from an env config, turning constructor mistakes into clear user errors."""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym

import rlkit.envs  # noqa: F401  (registers rlkit's ids)
from rlkit.core.errors import UserError
from rlkit.core.vector import VECTOR_ENTRY_POINTS, SerialVectorEnv


def load_ale_ids() -> None:
    """Registers ale-py's ids (ALE/Pong-v5, ...). ale_py is a large native module: imported only when an id
    is not found among those already registered, never at import time."""
    import ale_py

    gym.register_envs(ale_py)


def registered_ids() -> list[str]:
    """All Gymnasium ids known in this process (rlkit's and ale-py's included)."""
    load_ale_ids()
    return sorted(gym.registry.keys())


def check_env_id(env_id: str) -> None:
    """Raises UserError with close matches when `env_id` is not a registered Gymnasium id.

    Gymnasium's `module:Name-v0` form is accepted: the module is imported first (it registers Name-v0).
    """
    module, _, name = env_id.rpartition(":")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise UserError(f"env '{env_id}': cannot import {module} ({err})") from err
    if name in gym.registry:
        return
    load_ale_ids()
    if name in gym.registry:
        return
    close = difflib.get_close_matches(env_id, registered_ids(), n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UserError(
        f"unknown env '{env_id}': it is neither an rlkit env config nor a registered Gymnasium id.{hint}"
    )


def make_env(env_cfg: Any, render_mode: str | None = None, evaluation: bool = False) -> gym.Env:
    """gymnasium.make(env.id, **env.kwargs) with the configured episode cap and render mode.

    With `evaluation`, env.eval_kwargs replace the matching kwargs (a held-out split, unclipped rewards, ...).
    """
    check_env_id(env_cfg.id)
    kwargs = _plain(env_cfg.kwargs) or {}
    if evaluation:
        kwargs.update(_plain(getattr(env_cfg, "eval_kwargs", None)) or {})
    if env_cfg.max_episode_steps is not None:
        if env_cfg.max_episode_steps < 1:
            raise UserError(f"env.max_episode_steps={env_cfg.max_episode_steps} is invalid: it must be >= 1")
        kwargs["max_episode_steps"] = int(env_cfg.max_episode_steps)
    check_kwarg_types(env_cfg.id, kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    try:
        return gym.make(env_cfg.id, **kwargs)
    except TypeError as err:  # an unknown or mistyped constructor argument
        raise UserError(f"env '{env_cfg.id}' rejected env.kwargs {_plain(env_cfg.kwargs)}: {err}") from err
    except ValueError as err:  # e.g. a malformed maze map: the env's message says what is wrong
        raise UserError(f"env '{env_cfg.id}': {err}") from err
    except KeyError as err:  # e.g. FrozenLake's map_name=9x9: a lookup in the env's own table failed
        raise UserError(
            f"env '{env_cfg.id}' rejected env.kwargs {_plain(env_cfg.kwargs)}: no such value {err}"
        ) from err
    except gym.error.Error as err:
        raise UserError(f"env '{env_cfg.id}' could not be made: {err}") from err


TYPES = {"bool": bool, "int": int, "float": float}
EXPECTED = {bool: "a bool (true or false)", int: "an integer", float: "a number"}


def check_kwarg_types(env_id: str, kwargs: dict[str, Any]) -> None:
    """Constructor arguments whose type the constructor states (a bool, int or float annotation or default)
    must have it: `is_slippery=maybe` is refused instead of reaching the env as a truthy string."""
    params = _constructor_params(env_id)
    for name, value in kwargs.items():
        expected = _expected_type(params[name]) if name in params else None
        if expected is None or value is None:
            continue
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if (expected is bool and not isinstance(value, bool)) or (expected is not bool and not numeric):
            raise UserError(
                f"env.kwargs.{name}={value!r} is invalid for env '{env_id}': it must be {EXPECTED[expected]}"
            )


def _constructor_params(env_id: str) -> dict[str, inspect.Parameter]:
    """The parameters of the env's entry point (empty when it cannot be inspected)."""
    entry = gym.spec(env_id.rpartition(":")[2]).entry_point  # `module:Name-v0`: the module is imported
    try:
        if isinstance(entry, str):
            module, _, attr = entry.partition(":")
            entry = getattr(importlib.import_module(module), attr)
        return dict(inspect.signature(entry).parameters)
    except (ImportError, AttributeError, TypeError, ValueError):
        return {}


def _expected_type(param: inspect.Parameter) -> type | None:
    """bool, int or float from the parameter's annotation (`bool`, `bool | None`, ...) or its default."""
    annotation = param.annotation
    if isinstance(annotation, str):
        parts = [p.strip() for p in annotation.split("|") if p.strip() != "None"]
        annotation = TYPES.get(parts[0]) if len(parts) == 1 else None
    if annotation in (bool, int, float):
        return annotation
    default = param.default
    return type(default) if type(default) in (bool, int, float) else None


def _plain(value: Any) -> Any:
    """Hydra's DictConfig/ListConfig values as plain dicts and lists, which env constructors expect."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def env_fns(env_cfg: Any, n: int, render_mode: str | None = None) -> list[Callable[[], gym.Env]]:
    """`n` constructors of the same env, for a vector env."""
    return [lambda: make_env(env_cfg, render_mode) for _ in range(n)]


def make_vector_env(env_cfg: Any, num_envs: int) -> SerialVectorEnv:
    """The training envs as one vector env (the runner's only view of them).

    An env registered with rlkit.core.vector.register_vector_env gets its own (e.g. Atari: ale-py's native
    vector env, whole games with raw scores), called with num_envs and env.kwargs; any other env is stepped
    serially.
    """
    check_env_id(env_cfg.id)
    entry = VECTOR_ENTRY_POINTS.get(env_cfg.id.rpartition(":")[2])
    if entry is None:
        return SerialVectorEnv(env_fns(env_cfg, num_envs))
    kwargs = _plain(env_cfg.kwargs) or {}
    if env_cfg.max_episode_steps is not None:
        kwargs["max_episode_steps"] = int(env_cfg.max_episode_steps)
    make = gym.envs.registration.load_env_creator(entry)
    try:
        return make(num_envs, **kwargs)
    except (TypeError, ValueError) as err:
        raise UserError(f"env '{env_cfg.name}': {err}") from err
