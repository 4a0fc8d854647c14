"""GIF and MP4 rollouts: frame counts and sizes for CartPole and Breakout, upscaling, TensorBoard videos."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image, ImageSequence
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlkit.core.loggers import JsonlLogger, MultiLogger, TensorBoardLogger
from rlkit.envs.factory import make_env
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config
from rlkit.frontend.play import RandomAgent
from rlkit.frontend.video import (
    as_frames,
    even_pad,
    gif_bytes,
    gif_frame_ms,
    headless_pixels,
    record_episode,
    upscale,
    video_stem,
    write_videos,
)


def gif_frames(data: Path | bytes) -> tuple[int, tuple[int, int], int]:
    """(stored frames, (width, height), total duration in ms) of a GIF file or bytes."""
    import io

    image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(image)]
    return len(durations), image.size, sum(durations)


def mp4_frames(path: Path) -> tuple[int, tuple[int, int]]:
    """(frames, (width, height)) of an MP4 file, counted by ffmpeg."""
    reader = imageio.get_reader(path)
    try:
        return reader.count_frames(), tuple(reader.get_meta_data()["size"])
    finally:
        reader.close()


def distinct_runs(frames: np.ndarray) -> int:
    """Frames a GIF stores: runs of identical consecutive frames are stored once."""
    return 1 + sum(not np.array_equal(a, b) for a, b in zip(frames[:-1], frames[1:]))


def test_upscale_repeats_each_pixel_in_a_block() -> None:
    frame = np.array([[[1, 1, 1], [2, 2, 2]]], dtype=np.uint8)  # 1 x 2 pixels
    big = upscale(frame, 3)
    assert big.shape == (3, 6, 3)
    assert (big[:, :3] == 1).all() and (big[:, 3:] == 2).all()
    assert upscale(frame, 1) is frame


def test_gif_timing_and_names() -> None:
    assert gif_frame_ms(30) == 30 and gif_frame_ms(10) == 100 and gif_frame_ms(50) == 20
    assert gif_frame_ms(1000) == 20  # browsers slow down shorter delays
    assert video_stem("latest", 2, 21.0) == "latest_ep002_return21"
    assert video_stem("best", 0, -0.5) == "best_ep000_return-0.5"


def test_even_pad_keeps_content() -> None:
    frames = np.arange(2 * 3 * 5 * 3, dtype=np.uint8).reshape(2, 3, 5, 3)
    padded = even_pad(frames)
    assert padded.shape == (2, 4, 6, 3)
    assert (padded[:, :3, :5] == frames).all() and (padded[:, 3, :5] == frames[:, 2]).all()


def test_synthetic_frames_round_trip(tmp_path: Path) -> None:
    frames = np.zeros((5, 6, 10, 3), dtype=np.uint8)
    for t in range(5):
        frames[t, :, 2 * t] = 255  # a moving white column: every frame differs
    paths = write_videos(tmp_path, "clip", as_frames(list(frames), scale=2), fps=10)
    assert [p.name for p in paths] == ["clip.gif", "clip.mp4"]
    assert gif_frames(paths[0]) == (5, (20, 12), 500)
    assert mp4_frames(paths[1]) == (5, (20, 12))
    first = np.asarray(Image.open(paths[0]).convert("RGB"))
    assert (first[:, :2] == 255).all() and (first[:, 2:] == 0).all()  # exact colours, no dithering


def test_cartpole_gif_and_mp4(tmp_path: Path) -> None:
    pytest.importorskip(
        "pygame", reason="CartPole draws its frames with pygame: a dependency rlkit must list"
    )
    headless_pixels()
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    ep, paths, frames = record_episode(
        RandomAgent(env.action_space, 0), env, 3, tmp_path, "random", 0, fps=50
    )
    env.close()
    assert frames.shape == (ep.length + 1, 400, 600, 3)  # the reset frame and one per step
    assert [p.name for p in paths] == [
        f"random_ep000_return{ep.ret:g}.gif",
        f"random_ep000_return{ep.ret:g}.mp4",
    ]
    stored, size, duration = gif_frames(paths[0])
    assert (stored, size, duration) == (distinct_runs(frames), (600, 400), (ep.length + 1) * 20)
    assert mp4_frames(paths[1]) == (ep.length + 1, (600, 400))


def test_breakout_gif_and_mp4_upscaled(tmp_path: Path) -> None:
    cfg = compose_config(["env=Breakout"])  # rlkit's Atari env: the frames are the full-colour game screen
    env = make_env(cfg.env, render_mode="rgb_array", evaluation=True)
    agent = RandomAgent(env.action_space, 0)
    ep, paths, frames = record_episode(agent, env, 0, tmp_path, "random", 1, fps=30, scale=2, max_steps=40)
    env.close()
    assert ep.length == 40 and frames.shape == (41, 420, 320, 3)
    assert [p.name for p in paths] == [
        f"random_ep001_return{ep.ret:g}.gif",
        f"random_ep001_return{ep.ret:g}.mp4",
    ]
    stored, size, duration = gif_frames(paths[0])
    assert (stored, size, duration) == (distinct_runs(frames), (320, 420), 41 * 30)
    assert mp4_frames(paths[1]) == (41, (320, 420))


def test_play_cli_breakout(tmp_path: Path, capsys) -> None:
    assert main(["play", "env=Breakout", "max_steps=20", "render=gif", f"out={tmp_path}", "fps=15"]) == 0
    assert "(21 frames of 160x210)" in capsys.readouterr().out
    (gif,) = tmp_path.iterdir()
    assert gif_frames(gif)[1:] == ((160, 210), 21 * 70)  # 15 fps: 66.7 ms, stored as 70 ms


def test_play_cli_writes_named_videos_for_a_random_cartpole(tmp_path: Path, capsys) -> None:
    pytest.importorskip(
        "pygame", reason="CartPole draws its frames with pygame: a dependency rlkit must list"
    )
    out = tmp_path / "videos"
    assert main(["play", "env=CartPole-v1", "episodes=2", "render=mp4", f"out={out}", "seed=5"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("episode ")]
    files = sorted(out.iterdir())
    assert len(lines) == 2 and [p.suffix for p in files] == [".mp4", ".mp4"]
    for k, (line, path) in enumerate(zip(lines, files)):
        length = int(line.split("length ")[1].split()[0])
        assert path.name == f"random_ep{k:03d}_return{length}.mp4"  # CartPole: return = length
        assert mp4_frames(path) == (length + 1, (600, 400))


def test_tensorboard_video_is_an_animated_gif(tmp_path: Path) -> None:
    frames = np.zeros((4, 8, 6, 3), dtype=np.uint8)
    frames[np.arange(4), np.arange(4)] = 200  # a moving row
    logger = MultiLogger([TensorBoardLogger(tmp_path), JsonlLogger(tmp_path / "metrics.jsonl")])
    logger.log_video("eval/video", frames, step=7, fps=10)
    logger.close()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    (image,) = events.Images("eval/video")
    assert (image.step, image.width, image.height) == (7, 6, 8)
    assert image.encoded_image_string == gif_bytes(frames, 10)
    assert gif_frames(image.encoded_image_string) == (4, (6, 8), 400)


def test_render_human_without_a_display_records_instead(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["play", "env=Breakout", "render=human", "max_steps=3", f"out={tmp_path}"]) == 0
    assert "no display here ($DISPLAY is not set): recording GIF and MP4 instead" in capsys.readouterr().out
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".gif", ".mp4"]
