"""rlkit agents (imported as rlkit.agents): name -> class and config schemas, read by the composition root."""

from rlkit.agents.tabular import TabularAgent, TabularConfig

# Agent name (the `agent=` CLI token and the config's `name`) -> class built as Class(cfg, ctx).
AGENTS = {
    "q_learning": TabularAgent,
    "sarsa": TabularAgent,
    "expected_sarsa": TabularAgent,
}

# Schema name (listed first in each agent YAML's defaults, as `<name>_schema`) -> dataclass.
SCHEMAS = {
    "tabular": TabularConfig,
}

__all__ = ["AGENTS", "SCHEMAS", "TabularAgent", "TabularConfig"]
