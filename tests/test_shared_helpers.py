"""Helpers that several modules share: one list of image suffixes, one 'is invalid: valid ... are' line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlkit.core.errors import UserError, invalid_choice
from rlkit.envs import gan_images, image2image_data
from rlkit.envs.image_folder import IMAGE_SUFFIXES, image_files, load_image
from rlkit.frontend import inputs


def test_every_reader_of_image_folders_uses_the_one_list() -> None:
    assert inputs.IMAGE_SUFFIXES is IMAGE_SUFFIXES
    assert gan_images.IMAGE_SUFFIXES is IMAGE_SUFFIXES
    assert image2image_data.IMAGE_SUFFIXES is IMAGE_SUFFIXES


def test_each_listed_suffix_is_found_and_read(tmp_path: Path) -> None:
    from PIL import Image

    pixels = np.zeros((6, 8, 3), np.uint8)
    pixels[:, :4] = (200, 30, 90)
    for k, suffix in enumerate(IMAGE_SUFFIXES):
        image = Image.fromarray(pixels).convert("L" if suffix == ".pgm" else "RGB")
        image.save(tmp_path / f"{k:02d}{suffix.upper() if k % 2 else suffix}")  # upper case counts too
    (tmp_path / "notes.txt").write_text("not an image")
    found = image_files(tmp_path)
    assert [p.suffix.lower() for p in found] == list(IMAGE_SUFFIXES)
    assert inputs.input_paths(str(tmp_path)) == found  # `rlkit play input=<folder>` takes the same files
    for path in found:  # each of the readers reads each of them
        assert load_image(path, 4).shape == (3, 4, 4)
        assert image2image_data.read_image(path).shape == (6, 8, 3)
    assert gan_images.load_image_folder(str(tmp_path), 4, "rgb").shape == (len(IMAGE_SUFFIXES), 3, 4, 4)


def test_invalid_choice_is_one_line_with_the_choices() -> None:
    err = invalid_choice("render=gyf", ("gif", "mp4"))
    assert isinstance(err, UserError) and str(err) == "render=gyf is invalid: valid values are gif, mp4"
    err = invalid_choice("operation='blurr'", ("blur", "resize"), "operations")
    assert str(err) == "operation='blurr' is invalid: valid operations are blur, resize"


def test_the_atari_vector_choice_reads_like_the_others() -> None:
    from rlkit.envs.atari_vector import make_vector_env

    with pytest.raises(
        UserError, match=r"^env.kwargs.vector='fast' is invalid: valid values are native, serial$"
    ):
        make_vector_env(2, vector="fast")
