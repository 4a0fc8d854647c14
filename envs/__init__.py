"""rlkit environments (imported as rlkit.envs). Importing this package registers rlkit's Gymnasium ids.

An env module imports rlkit.core (and other env modules), never rlkit.agents or rlkit.frontend.
"""

import gymnasium as gym

from rlkit.core.vector import register_vector_env

MAZE_ID = "rlkit/GridMaze-v0"

# Atari (envs/atari.py): entry points are strings, so ale_py is imported only when an Atari env is made. The
# vector env entry point says how the runner batches it (ale-py native vector env, or the wrappers serially).
ATARI_ID = "rlkit/Atari-v0"
if ATARI_ID not in gym.registry:
    gym.register(id=ATARI_ID, entry_point="rlkit.envs.atari:make_atari")
register_vector_env(ATARI_ID, "rlkit.envs.atari_vector:make_vector_env")

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

# GAN tasks (envs/gan.py): obs = real minibatch, action = generated minibatch; an episode is one epoch.
GAN = {
    "rlkit/DigitsGan-v0": ("rlkit.envs.gan:DigitsGanEnv", {}),
    "rlkit/GaussianRing-v0": ("rlkit.envs.gan:GaussianMixtureEnv", {"layout": "ring"}),
    "rlkit/GaussianGrid-v0": ("rlkit.envs.gan:GaussianMixtureEnv", {"layout": "grid"}),
}
for _id, (_entry, _kwargs) in GAN.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry, kwargs=_kwargs)

# SeqGAN's synthetic task (envs/seqgan_oracle.py): obs = the oracle's sequences, action = generated ones.
SEQGAN_ORACLE_ID = "rlkit/SeqGanOracle-v0"
if SEQGAN_ORACLE_ID not in gym.registry:
    gym.register(id=SEQGAN_ORACLE_ID, entry_point="rlkit.envs.seqgan_oracle:SeqGanOracleEnv")
