"""rlkit's front end: CLI, config composition, play, eval, bench, progress display, video, plots.

The top layer and the only one that knows concrete agent and env classes (through the configs' `_target_`).
"""
