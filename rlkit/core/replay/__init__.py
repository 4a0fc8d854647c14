"""Replay memory for off-policy agents: uniform, n-step and prioritised, frames stored once."""
