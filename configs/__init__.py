"""Hydra config groups shipped with rlkit: train.yaml plus the agent/, env/ and experiment/ groups."""
