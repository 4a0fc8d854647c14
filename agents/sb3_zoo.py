"""RL Baselines3 Zoo's published hyperparameters for the envs rlkit ships, and the Zoo's value mini-language.

Values are the Zoo's `hyperparams/<algo>.yml` entries as published in rl_zoo3 2.9.2 (the PyPI release that
matches stable-baselines3 / sb3-contrib 2.9.2; read from its wheel, `rl_zoo3/hyperparams/{ppo,a2c,dqn,qrdqn,
trpo}.yml`, checked 2026-11). Older GitHub versions differ for Atari: dqn.yml at ce95481b had buffer_size
10000 and optimize_memory_usage True, qrdqn.yml at c8cff9f1 had no learning_starts.
The Zoo picks an entry the way `zoo_key` does (rl_zoo3/exp_manager.py, read_hyperparameters): the env id,
else `atari` for ALE envs, else `default` (only n_timesteps 1e6 and MlpPolicy, i.e. SB3's own defaults, which
is what rlkit uses for its maze and any env the Zoo does not list).
The Zoo's `n_envs` (default 1) and `n_timesteps` are run-level settings in rlkit (`num_envs=`,
`total_steps=`), so they are kept apart: `zoo_run_settings` returns them for messages and benchmarks, they are
never passed to the algorithm. `policy` (CnnPolicy for Atari, else MlpPolicy) is what agent.policy=auto picks.
Env-side Zoo settings for `atari` (SB3's AtariWrapper: 30 no-ops, frame skip 4 with max-pool, 84x84 gray,
reward clipping, no sticky actions; frame_stack 4) are what rlkit's Atari preset does, except that
AtariWrapper makes a lost life terminal for the learner: set env.kwargs.terminal_on_life_loss=true to match.
Strings the Zoo writes are decoded as its exp_manager does: `lin_2.5e-4` is a linear decay to 0 over training
(SimpleLinearSchedule), a `policy_kwargs` string such as "dict(net_arch=[64, 64], activation_fn=nn.ReLU)" is
read as a Python dict (here without eval: literals, dict(...) and class names only), `RMSpropTFLike` is SB3's
TF-like RMSprop, `nn.ReLU` a torch activation, and a `train_freq` list such as [1, "episode"] a tuple.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from rlkit.core.errors import UserError

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
            "learning_starts": 50_000,
            "exploration_fraction": 0.025,
            "optimize_memory_usage": False,
        },
    },
    "TRPO": {
        "CartPole-v1": {
            "n_envs": 2,
            "n_timesteps": 100_000,
            "n_steps": 512,
            "batch_size": 512,
            "cg_damping": 1e-3,
            "gae_lambda": 0.98,
            "gamma": 0.99,
            "learning_rate": 1e-3,
            "n_critic_updates": 20,
        },
    },
}
RUN_KEYS = ("n_envs", "n_timesteps")
# Zoo keys that are run or env settings, not algorithm arguments -> what to set in rlkit instead.
ZOO_RUN_KEYS = {
    "n_envs": "set num_envs= instead",
    "n_timesteps": "set total_steps= instead",
    "frame_stack": "set env.kwargs.frame_stack= instead (Atari preset)",
    "normalize": "rlkit's SB3 adapter does not apply VecNormalize",
    "env_wrapper": "wrap the env in an rlkit env preset instead",
}
PY_DICT_KEYS = ("policy_kwargs", "replay_buffer_kwargs")  # the Zoo evaluates these strings as Python
CLASS_KEYS = ("activation_fn", "optimizer_class")


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
    """Turns the Zoo's strings into objects: 'lin_X' schedules, dict strings, optimizer/activation classes."""
    if key in PY_DICT_KEYS and isinstance(value, str):
        value = parse_python_dict(key, value)
    if isinstance(value, dict):
        return {k: decode_value(k, v) for k, v in value.items()}
    if key == "train_freq" and isinstance(value, list):
        return tuple(value)  # [1, "episode"] in YAML; SB3 wants a tuple
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


def parse_python_dict(key: str, text: str) -> dict[str, Any]:
    """The Zoo's Python dict string, e.g. "dict(net_arch=[64, 64], activation_fn=nn.ReLU)", read without eval.

    Literals, lists, tuples, {...} and dict(k=v) are read as Python reads them; a dotted name is allowed only
    as the value of activation_fn or optimizer_class (and left as its name, for decode_value to resolve).
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise UserError(f"agent.hyperparams.{key}={text!r} is not a Python dict: {err.msg}") from err
    value = _literal(key, key, tree.body, text)
    if not isinstance(value, dict):
        raise UserError(f"agent.hyperparams.{key}={text!r} is invalid: write dict(name=value, ...)")
    return value


def _literal(top: str, key: str, node: ast.expr, text: str) -> Any:
    """One node of a Zoo dict string; `key` is the argument it is the value of."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _literal(top, key, node.operand, text)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
    elif isinstance(node, ast.List | ast.Tuple):
        items = [_literal(top, key, item, text) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    elif isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value: _literal(top, str(k.value), v, text) for k, v in zip(node.keys, node.values)}  # type: ignore[union-attr]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        if not node.args and all(kw.arg for kw in node.keywords):
            return {kw.arg: _literal(top, str(kw.arg), kw.value, text) for kw in node.keywords}
    elif isinstance(node, ast.Name | ast.Attribute) and key in CLASS_KEYS:
        return ast.unparse(node)
    raise UserError(
        f"agent.hyperparams.{top}={text!r}: {ast.unparse(node)!r} is not supported; use numbers, strings, "
        f"lists, dict(...), and class names only for {' or '.join(CLASS_KEYS)}"
    )


def _optimizer_class(name: str) -> type:
    import torch  # torch and SB3 only when a Zoo entry names a class: reading the tables needs neither
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    classes = {"RMSpropTFLike": RMSpropTFLike}
    classes.update({n: getattr(torch.optim, n) for n in ("Adam", "AdamW", "SGD", "RMSprop")})
    short = name.rsplit(".", 1)[-1]
    if short not in classes:
        raise UserError(f"policy_kwargs.optimizer_class={name!r} is unknown; valid: {', '.join(classes)}")
    return classes[short]


def _activation_class(name: str) -> type:
    from torch import nn  # as in _optimizer_class

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
        if key in ZOO_RUN_KEYS:
            raise UserError(
                f"agent.hyperparams.{key} is a Zoo run setting, not a {algo} argument: {ZOO_RUN_KEYS[key]}"
            )
        if key in PY_DICT_KEYS and isinstance(value, str):
            value = parse_python_dict(key, value)
        if key == "policy_kwargs" and isinstance(value, dict):
            merged["policy_kwargs"] = {**merged.get("policy_kwargs", {}), **value}
        else:
            merged[key] = value
    return {k: decode_value(k, v) for k, v in merged.items()}
