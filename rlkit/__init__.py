"""rlkit: a reinforcement-learning gym toolkit. One runner, one CLI, tabular to deep agents."""

__version__ = "0.1.0"
