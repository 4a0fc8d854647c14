"""rlkit agents (imported as rlkit.agents). Each is registered by its YAML in configs/agent/ (`_target_`).

An agent module imports rlkit.core (and other agent modules), never rlkit.envs or rlkit.frontend.
"""
