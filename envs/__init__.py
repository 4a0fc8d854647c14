"""rlkit environments (imported as rlkit.envs). Importing this package registers rlkit's Gymnasium ids."""

import gymnasium as gym

MAZE_ID = "rlkit/GridMaze-v0"

if MAZE_ID not in gym.registry:
    gym.register(id=MAZE_ID, entry_point="rlkit.envs.maze:GridMazeEnv", max_episode_steps=30)
