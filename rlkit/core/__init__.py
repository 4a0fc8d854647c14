"""rlkit's core: types, errors, runner, vector env, evaluation, checkpoints, loggers, schedules, replay.

The bottom layer: it imports nothing else of rlkit (not the agents, envs or front end).
"""
