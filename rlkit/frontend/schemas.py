"""Typed configs in Hydra's ConfigStore: the run's and the env's schemas, and the chosen agent's `Config`.

An agent is registered by its YAML alone: `_target_: rlkit.agents.dqn.DQNAgent` names the class, whose
`Config` dataclass is the schema; the YAML holds only its one-line description and the values that differ
from the dataclass defaults. configs/train.yaml lists `optional agent_schema@agent: ${agent}` before the
agent, so once `store_agent_schema` has stored the chosen agent's schema under its option name, Hydra merges
the YAML onto it: a misspelt key or a wrong type fails at compose time. Only the chosen agent's module is
imported.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from rlkit.core.config import TrainConfig
from rlkit.core.errors import UserError

SCHEMA_GROUP = "agent_schema"


def register_run_schemas() -> None:
    """Stores the top-level schema, which types the env node too (EnvConfig); idempotent."""
    ConfigStore.instance().store(name="train_schema", node=TrainConfig)


def locate(target: str) -> Any:
    """The object a `_target_` names ("package.module.Name"), or a UserError saying what is missing."""
    module_name, _, attr = target.rpartition(".")
    if not module_name:
        raise UserError(
            f"_target_={target!r} is invalid: give a dotted path such as rlkit.agents.dqn.DQNAgent"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UserError(f"_target_={target}: cannot import {module_name} ({err})") from err
    if not hasattr(module, attr):
        raise UserError(f"_target_={target}: module {module_name} has no {attr}")
    return getattr(module, attr)


def agent_class(node: DictConfig, option: str) -> Any:
    """The class an agent config's `_target_` names; it must carry its config dataclass as `.Config`."""
    target = node.get("_target_") if isinstance(node, DictConfig) else None
    if not target:
        raise UserError(
            f"agent '{option}': its YAML names no class; add `_target_: package.module.AgentClass`"
        )
    cls = locate(str(target))
    if not hasattr(cls, "Config"):
        raise UserError(f"agent '{option}': {target} has no `Config` (the dataclass of its settings)")
    return cls


def store_agent_schema(option: str, node: DictConfig) -> None:
    """Stores agent `option`'s schema (its class's Config, plus `_target_`) where train.yaml looks for it.

    `node` is the agent's config as composed so far; its `_target_` names the class. The agent's `name` (in
    run directories and summaries) defaults to the option.
    """
    cls = agent_class(node, option)
    schema = OmegaConf.structured(cls.Config)
    OmegaConf.set_struct(schema, False)
    schema["_target_"] = str(node["_target_"])
    schema["name"] = option  # a YAML that sets `name` itself still wins: it is merged on top
    OmegaConf.set_struct(schema, True)
    ConfigStore.instance().store(group=SCHEMA_GROUP, name=option, node=schema)


def agent_config(node: DictConfig) -> tuple[Any, Any]:
    """(the agent's class, its typed config object) from the composed `agent` node."""
    cls = locate(str(node["_target_"]))
    names = {f.name for f in dataclasses.fields(cls.Config)}  # `_target_`, and `name` unless it is a field
    values = OmegaConf.to_container(node, resolve=True)
    return cls, cls.Config(**{k: v for k, v in values.items() if k in names})
