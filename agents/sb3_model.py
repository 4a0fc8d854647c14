"""Builds a Stable-Baselines3 model for rlkit's spaces: algorithm lookup, policy choice, a spaces-only VecEnv.

SB3's constructors want an env; they get a stub VecEnv that only carries the observation and action spaces and
num_envs, so SB3 never sees or steps rlkit's envs. Its logger writes nothing (rlkit's runner logs).
"""

from __future__ import annotations

import inspect
import re
import warnings
from typing import TYPE_CHECKING, Any

import gymnasium as gym

from rlkit.agents.sb3_zoo import merge_hyperparams, zoo_key, zoo_run_settings
from rlkit.core.errors import IncompatibleError, RlkitWarning, UserError, describe_space
from rlkit.core.types import AgentContext

if TYPE_CHECKING:
    from rlkit.agents.sb3_base import SB3Config

POLICIES = ("auto", "MlpPolicy", "CnnPolicy", "MultiInputPolicy")
UNSUPPORTED = {
    "ARS": "it is an evolution strategy that evaluates whole episodes inside its own learn() loop",
    "RecurrentPPO": "its LSTM states would have to travel through the runner's act/observe",
}


def algorithms() -> dict[str, type]:
    """Every BaseAlgorithm subclass exported by stable_baselines3 and sb3_contrib, by class name."""
    import stable_baselines3  # SB3 (~1 s to import): only when an SB3 agent is built
    from stable_baselines3.common.base_class import BaseAlgorithm

    modules = [stable_baselines3]
    try:
        import sb3_contrib

        modules.append(sb3_contrib)
    except ImportError:  # pragma: no cover (sb3-contrib is a dependency, but optional for the adapter)
        pass
    found = {}
    for module in modules:
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseAlgorithm) and obj is not BaseAlgorithm:
                found[name] = obj
    return dict(sorted(found.items()))


def algorithm_class(algo: str) -> type:
    """The SB3 class named `algo`, or a UserError listing the valid names."""
    import difflib

    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    found = algorithms()
    if algo in UNSUPPORTED:
        raise UserError(f"agent.algo={algo} is not supported under the rlkit runner: {UNSUPPORTED[algo]}")
    usable = {
        n: c
        for n, c in found.items()
        if n not in UNSUPPORTED and issubclass(c, OnPolicyAlgorithm | OffPolicyAlgorithm)
    }
    if algo not in usable:
        by_case = {n.lower(): n for n in usable}
        close = (
            [by_case[algo.lower()]] if algo.lower() in by_case else difflib.get_close_matches(algo, usable)
        )
        hint = f" Did you mean {close[0]}?" if close else ""
        raise UserError(f"agent.algo={algo} is unknown.{hint} Valid algorithms: {', '.join(usable)}")
    return usable[algo]


def choose_policy(policy: str, observation_space: gym.Space) -> str:
    """The SB3 policy name for `policy` (auto picks by observation space)."""
    from stable_baselines3.common.preprocessing import is_image_space

    if policy not in POLICIES:
        raise UserError(f"agent.policy={policy} is unknown; valid policies: {', '.join(POLICIES)}")
    if policy != "auto":
        return policy
    if isinstance(observation_space, gym.spaces.Dict):
        return "MultiInputPolicy"
    return "CnnPolicy" if is_image_space(observation_space, check_channels=False) else "MlpPolicy"


def stub_vec_env(observation_space: gym.Space, action_space: gym.Space, num_envs: int) -> Any:
    """A VecEnv that only carries spaces and num_envs, so SB3 builds its model without owning an env."""
    from stable_baselines3.common.vec_env import VecEnv

    class SpacesOnly(VecEnv):
        """Spaces for SB3's constructor; stepping it is a bug (rlkit's runner steps the real envs)."""

        def _never(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the rlkit SB3 adapter never steps SB3's env")

        reset = step_async = step_wait = set_attr = env_method = _never

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [None] * self.num_envs  # VecEnv.__init__ asks for render_mode

        def close(self) -> None:
            pass

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False] * self.num_envs

    return SpacesOnly(num_envs, observation_space, action_space)


def build_model(cfg: SB3Config, ctx: AgentContext) -> tuple[Any, dict[str, Any]]:
    """The SB3 model for the run's spaces, with a logger that writes nothing; and the Zoo's run settings."""
    from stable_baselines3.common.logger import Logger

    cls = algorithm_class(cfg.algo)
    pixels = _is_pixels(ctx.observation_space)
    key = zoo_key(cfg.env_id or ctx.env_name, pixels) if cfg.zoo else None
    kwargs = merge_hyperparams(cfg.algo, key, cfg.zoo, dict(cfg.hyperparams))
    for reserved in ("env", "policy", "seed", "device", "verbose", "tensorboard_log"):
        if reserved in kwargs:
            raise UserError(
                f"agent.hyperparams.{reserved} is set by rlkit (use agent.policy, seed=, device=)"
            )
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        valid = ", ".join(sorted(accepted))
        raise UserError(f"agent.hyperparams.{unknown[0]} is not a {cfg.algo} argument; valid: {valid}")
    device = cfg.device or ctx.device
    env = stub_vec_env(ctx.observation_space, ctx.action_space, ctx.num_envs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # e.g. "PPO on GPU": the user chose the device
            model = cls(
                choose_policy(cfg.policy, ctx.observation_space), env, seed=ctx.seed, device=device, **kwargs
            )
    except AssertionError as err:  # SB3 checks the action space with an assert
        if "only supports" not in str(err):
            raise
        valid = re.findall(r"<class '[\w.]*\.(\w+)'>", str(err))
        raise IncompatibleError(
            f"agent.algo={cfg.algo} needs a {' or '.join(valid)} action space, but env '{ctx.env_name}' has "
            f"action space {describe_space(ctx.action_space)} "
            f"(observation space {describe_space(ctx.observation_space)})"
        ) from err
    except (ValueError, TypeError) as err:
        raise UserError(f"agent.algo={cfg.algo} could not be built: {err}") from err
    model.set_logger(Logger(folder=None, output_formats=[]))
    model.env = None  # the stub has done its job
    zoo_run = zoo_run_settings(cfg.algo, key)
    if zoo_run.get("n_envs", ctx.num_envs) != ctx.num_envs:
        warnings.warn(
            f"RL Zoo tuned {cfg.algo} on {key} with num_envs={zoo_run['n_envs']}; this run has "
            f"num_envs={ctx.num_envs} (set num_envs={zoo_run['n_envs']} to train as the Zoo does)",
            RlkitWarning,
            stacklevel=2,
        )
    return model, zoo_run


def _is_pixels(space: gym.Space) -> bool:
    from stable_baselines3.common.preprocessing import is_image_space

    return isinstance(space, gym.spaces.Box) and is_image_space(space, check_channels=False)


def needs_transpose(space: gym.Space) -> bool:
    """Whether image observations arrive channels-last and must be transposed for SB3's CNN policies."""
    from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first

    return _is_pixels(space) and is_image_space(space) and not is_image_space_channels_first(space)
