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
    "rlkit/MnistGan-v0": ("rlkit.envs.gan_images:MnistGanEnv", {}),
    "rlkit/ImageFolderGan-v0": ("rlkit.envs.gan_images:ImageFolderGanEnv", {}),
}
for _id, (_entry, _kwargs) in GAN.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry, kwargs=_kwargs)

# Your own images, one sub-folder per class (envs/image_folder.py, chapter 3's fine-tuning data).
IMAGE_FOLDER_ID = "rlkit/ImageFolder-v0"
if IMAGE_FOLDER_ID not in gym.registry:
    gym.register(id=IMAGE_FOLDER_ID, entry_point="rlkit.envs.image_folder:ImageFolderEnv")

# Fast style transfer's task (envs/style_photos.py, chapter 7): photos in, stylised photos out.
STYLE_PHOTOS_ID = "rlkit/StylePhotos-v0"
if STYLE_PHOTOS_ID not in gym.registry:
    gym.register(id=STYLE_PHOTOS_ID, entry_point="rlkit.envs.style_photos:StylePhotosEnv")
# Image-to-image translation (envs/image2image.py): obs = input crops, action = translations; episode = epoch.
IMAGE2IMAGE = {
    "rlkit/Colorize-v0": {"task": "colorize"},
    "rlkit/Inpaint-v0": {"task": "inpaint"},
    "rlkit/Edges2Photo-v0": {"task": "edges"},
    "rlkit/SuperResolution-v0": {"task": "super_resolution"},
    "rlkit/Pix2PixFolder-v0": {"task": "folder"},
}
for _id, _kwargs in IMAGE2IMAGE.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point="rlkit.envs.image2image:Image2ImageEnv", kwargs=_kwargs)

# Unpaired translation (envs/cyclegan.py): obs = domain-A crops, action = G_AB(A) and its cycle.
for _id, _kwargs in {
    "rlkit/Photo2Sepia-v0": {"task": "photo2sepia"},
    "rlkit/CycleGanFolder-v0": {"task": "folder"},
}.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point="rlkit.envs.cyclegan:UnpairedEnv", kwargs=_kwargs)
# Detection tasks (envs/detection.py, envs/voc.py): obs = images, action = boxes; an episode is one epoch.
DETECTION = {
    "rlkit/ShapesDetection-v0": "rlkit.envs.detection:ShapesDetectionEnv",
    "rlkit/VOC-v0": "rlkit.envs.voc:VocEnv",
}
for _id, _entry in DETECTION.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry)
# Sequence-to-sequence tasks (envs/translation.py): an episode is one epoch; corpus BLEU at its last step.
if "rlkit/Translation-v0" not in gym.registry:
    gym.register(id="rlkit/Translation-v0", entry_point="rlkit.envs.translation:TranslationEnv")
if "rlkit/ShapesCaptions-v0" not in gym.registry:
    gym.register(id="rlkit/ShapesCaptions-v0", entry_point="rlkit.envs.shapes_captions:ShapesCaptionsEnv")
if "rlkit/CocoCaptions-v0" not in gym.registry:
    gym.register(id="rlkit/CocoCaptions-v0", entry_point="rlkit.envs.coco_captions:CocoCaptionsEnv")
# SeqGAN's synthetic task (envs/seqgan_oracle.py): obs = the oracle's sequences, action = generated ones.
SEQGAN_ORACLE_ID = "rlkit/SeqGanOracle-v0"
if SEQGAN_ORACLE_ID not in gym.registry:
    gym.register(id=SEQGAN_ORACLE_ID, entry_point="rlkit.envs.seqgan_oracle:SeqGanOracleEnv")
# Face-embedding tasks (envs/identities.py, envs/face_folder.py): obs = images, action = embeddings.
for _id, _entry in {
    "rlkit/Identities-v0": "rlkit.envs.identities:IdentitiesEnv",
    "rlkit/FaceFolder-v0": "rlkit.envs.face_folder:FaceFolderEnv",
}.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry)
