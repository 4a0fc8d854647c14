"""RL Baselines3 Zoo's published hyperparameters for the envs rlkit ships, and the Zoo's value mini-language.

Values are rl-baselines3-zoo's `hyperparams/<algo>.yml` entries (commit 22e3ff24, see the anchors). The Zoo's
`n_envs` and `n_timesteps` are run-level settings in rlkit (`num_envs=`, `total_steps=`), so they are kept
apart: `zoo_run_settings` returns them for messages and benchmarks, they are never passed to the algorithm.
Env-side Zoo settings (AtariWrapper, frame_stack 4) are what rlkit's Atari preset already does.
Strings the Zoo writes for schedules and classes are decoded here: `lin_2.5e-4` is a linear decay to 0 over
training, `RMSpropTFLike` is SB3's TF-like RMSprop, `ReLU` a torch activation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rlkit.errors import UserError

_CARTPOLE_DQN = {
    "learning_rate": 2.3e-3,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1000,
    "gamma": 0.99,
    "target_update_interval": 10,
    "train_freq": 256,
    "gradient_steps": 128,
    "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04,
    "policy_kwargs": {"net_arch": [256, 256]},
}
_ATARI_DQN = {
    "buffer_size": 100_000,
    "learning_rate": 1e-4,
    "batch_size": 32,
    "learning_starts": 100_000,
    "target_update_interval": 1000,
    "train_freq": 4,
    "gradient_steps": 1,
    "exploration_fraction": 0.1,
    "exploration_final_eps": 0.01,
    "optimize_memory_usage": False,
}

# algo -> Zoo env key -> hyperparameters (with the run-level n_envs / n_timesteps the Zoo trains them for).
ZOO: dict[str, dict[str, dict[str, Any]]] = {
    "PPO": {
        "CartPole-v1": {
            "n_envs": 8,
            "n_timesteps": 100_000,
            "n_steps": 32,
            "batch_size": 256,
            "gae_lambda": 0.8,
            "gamma": 0.98,
            "n_epochs": 20,
            "ent_coef": 0.0,
            "learning_rate": "lin_0.001",
            "clip_range": "lin_0.2",
        },
        "atari": {
            "n_envs": 8,
            "n_timesteps": 10_000_000,
            "n_steps": 128,
            "n_epochs": 4,
            "batch_size": 256,
            "learning_rate": "lin_2.5e-4",
            "clip_range": "lin_0.1",
            "vf_coef": 0.5,
            "ent_coef": 0.01,
        },
    },
    "A2C": {
        "CartPole-v1": {"n_envs": 8, "n_timesteps": 500_000, "ent_coef": 0.0},
        "atari": {
            "n_envs": 16,
            "n_timesteps": 10_000_000,
            "ent_coef": 0.01,
            "vf_coef": 0.25,
            "policy_kwargs": {"optimizer_class": "RMSpropTFLike", "optimizer_kwargs": {"eps": 1e-5}},
        },
    },
    "DQN": {
        "CartPole-v1": {"n_envs": 1, "n_timesteps": 50_000, **_CARTPOLE_DQN},
        "atari": {"n_envs": 1, "n_timesteps": 10_000_000, **_ATARI_DQN},
    },
    "QRDQN": {
        "CartPole-v1": {
            "n_envs": 1,
            "n_timesteps": 50_000,
            **_CARTPOLE_DQN,
            "policy_kwargs": {"net_arch": [256, 256], "n_quantiles": 10},
        },
        "atari": {
            "n_envs": 1,
            "n_timesteps": 10_000_000,
            "exploration_fraction": 0.025,
            "optimize_memory_usage": False,
        },
    },
}
RUN_KEYS = ("n_envs", "n_timesteps")


def zoo_key(env_id: str, pixels: bool) -> str | None:
    """The Zoo's key for an env: its id when the Zoo tunes it by id, 'atari' for ALE pixel envs, else None."""
    if any(env_id in per_algo for per_algo in ZOO.values()):
        return env_id
    if pixels and (env_id.startswith("ALE/") or "NoFrameskip" in env_id or env_id.startswith("rlkit/Atari")):
        return "atari"
    return None


def zoo_hyperparams(algo: str, key: str | None) -> dict[str, Any]:
    """The Zoo's algorithm hyperparameters for (algo, env key), without run-level keys; {} when unknown."""
    entry = ZOO.get(algo, {}).get(key or "", {})
    return {k: v for k, v in entry.items() if k not in RUN_KEYS}


def zoo_run_settings(algo: str, key: str | None) -> dict[str, Any]:
    """The Zoo's n_envs / n_timesteps for (algo, env key); {} when unknown."""
    entry = ZOO.get(algo, {}).get(key or "", {})
    return {k: entry[k] for k in RUN_KEYS if k in entry}


def linear_schedule(initial: float) -> Callable[[float], float]:
    """SB3 schedule decaying linearly from `initial` (progress_remaining 1) to 0 (progress_remaining 0)."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * initial

    schedule.__name__ = f"lin_{initial}"
    return schedule


def decode_value(key: str, value: Any) -> Any:
    """Turns the Zoo's strings into objects: 'lin_X' schedules, optimizer and activation class names."""
    if isinstance(value, dict):
        return {k: decode_value(k, v) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    if value.startswith("lin_"):
        try:
            return linear_schedule(float(value[4:]))
        except ValueError as err:
            raise UserError(f"agent.hyperparams.{key}={value!r} is invalid: write lin_<number>") from err
    if key == "optimizer_class":
        return _optimizer_class(value)
    if key == "activation_fn":
        return _activation_class(value)
    return value


def _optimizer_class(name: str) -> type:
    import torch
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    classes = {"RMSpropTFLike": RMSpropTFLike}
    classes.update({n: getattr(torch.optim, n) for n in ("Adam", "AdamW", "SGD", "RMSprop")})
    short = name.rsplit(".", 1)[-1]
    if short not in classes:
        raise UserError(f"policy_kwargs.optimizer_class={name!r} is unknown; valid: {', '.join(classes)}")
    return classes[short]


def _activation_class(name: str) -> type:
    from torch import nn

    valid = ("ReLU", "Tanh", "ELU", "LeakyReLU", "GELU", "SiLU")
    short = name.rsplit(".", 1)[-1]
    if short not in valid:
        raise UserError(f"policy_kwargs.activation_fn={name!r} is unknown; valid: {', '.join(valid)}")
    return getattr(nn, short)


def merge_hyperparams(
    algo: str, env_key: str | None, use_zoo: bool, overrides: dict[str, Any]
) -> dict[str, Any]:
    """Zoo defaults (when asked and known) updated by the user's overrides, decoded for SB3's constructor."""
    merged = dict(zoo_hyperparams(algo, env_key)) if use_zoo else {}
    for key, value in overrides.items():
        if key == "policy_kwargs" and isinstance(value, dict):
            merged["policy_kwargs"] = {**merged.get("policy_kwargs", {}), **value}
        else:
            merged[key] = value
    return {k: decode_value(k, v) for k, v in merged.items()}
