"""rlkit environments (imported as rlkit.envs). Importing this package registers rlkit's Gymnasium ids."""

import gymnasium as gym

MAZE_ID = "rlkit/GridMaze-v0"

if MAZE_ID not in gym.registry:
    gym.register(id=MAZE_ID, entry_point="rlkit.envs.maze:GridMazeEnv", max_episode_steps=30)

# Supervised tasks (envs/supervised.py): an episode is one epoch, so no step cap.
SUPERVISED = {
    "rlkit/Digits-v0": ("rlkit.envs.digits:DigitsEnv", {"dataset": "digits"}),
    "rlkit/MNIST-v0": ("rlkit.envs.digits:DigitsEnv", {"dataset": "mnist"}),
    "rlkit/ToySequences-v0": ("rlkit.envs.toy_sequences:ToySequencesEnv", {}),
    "rlkit/CharText-v0": ("rlkit.envs.char_text:CharTextEnv", {}),
    "rlkit/TimeSeries-v0": ("rlkit.envs.timeseries:TimeSeriesEnv", {}),
    "rlkit/CIFAR10-v0": ("rlkit.envs.cifar10:Cifar10Env", {}),
    "rlkit/Word2Vec-v0": ("rlkit.envs.word2vec:Word2VecEnv", {}),
}
for _id, (_entry, _kwargs) in SUPERVISED.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry, kwargs=_kwargs)
