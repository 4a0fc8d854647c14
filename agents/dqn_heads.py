"""The DQN Q-network: a shared torso (networks.build_torso) with a plain or a dueling head.

The dueling head (Wang et al. 2016) splits the features into a state value V(s) and advantages A(s, a) and
recombines them as V + A - mean_a A, so that V and A are identifiable. Pixels stay uint8 up to the torso,
which scales them to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import torch
from torch import nn

from rlkit.agents.networks import build_torso


def dueling_combine(value: torch.Tensor, advantage: torch.Tensor) -> torch.Tensor:
    """Q = V + A - mean_a A, for value (B, 1) and advantage (B, actions)."""
    return value + advantage - advantage.mean(dim=-1, keepdim=True)


class QNetwork(nn.Module):
    """Observation batch -> Q value of every action, shape (batch, actions)."""

    def __init__(
        self,
        obs_space: gym.Space,
        n_actions: int,
        network: str = "auto",
        hidden: Sequence[int] = (256, 256),
        dueling: bool = False,
    ):
        super().__init__()
        self.torso, features = build_torso(obs_space, network, hidden, agent="agent 'dqn'")
        self.dueling = dueling
        if dueling:
            self.value = nn.Linear(features, 1)
            self.advantage = nn.Linear(features, n_actions)
        else:
            self.head = nn.Linear(features, n_actions)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        features = self.torso(obs)
        if self.dueling:
            return dueling_combine(self.value(features), self.advantage(features))
        return self.head(features)
