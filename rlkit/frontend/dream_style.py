"""`rlkit play run=<image classifier run> show=dream|style`: DeepDream and slow style transfer on the run's
network (rlkit.agents.deepdream, rlkit.agents.style_transfer), written by rlkit.frontend.visualize.

* show=dream [input=<image>] [layer=N channel=K size=S]: the book's four renders side by side, naive (20
  steps), multiscale (3 octaves), Laplacian-normalised (lap_n 4) and the full DeepDream (4 octaves, step 1.5,
  the layer's squared activations), from the book's noise (uniform + 100) or the input image;
* show=style input=<content image> style=<style image> [size=S]: content, style and the result of CS231n's
  200 iterations side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlkit.core.errors import UserError
from rlkit.envs.image_folder import load_image


def _int(opts: dict[str, str], key: str, default: int) -> int:
    try:
        value = int(opts.get(key, default))
    except ValueError:
        value = -1
    if value < 0:
        raise UserError(f"{key}={opts[key]} is invalid: it must be an integer >= 0")
    return value


def dream_and_style(model: Any, shows: list[str], opts: dict[str, str], paths: list[Path]) -> dict[str, Any]:
    """The `dream` and `style` strips asked for in `shows` (uint8 (H, W, 3) tensors)."""
    import torch  # heavy: only when pictures are made

    from rlkit.agents import deepdream as dd  # torch: only when pictures are made
    from rlkit.agents.style_transfer import STYLE_LAYERS, style_transfer  # torch, as above
    from rlkit.agents.visualize import strip  # torch, as above

    size = _int(opts, "size", 128)
    pictures: dict[str, Any] = {}
    if "dream" in shows:
        depth = len(model.net.features)
        layer = _int(opts, "layer", depth // 2)
        if layer >= depth:
            raise UserError(f"layer={layer} is invalid: {model.name}'s features have layers 0-{depth - 1}")
        if paths:
            start = torch.as_tensor(load_image(paths[0], size)).float()
        else:
            start = torch.from_numpy(np.random.default_rng(0).uniform(size=(3, size, size)) + 100.0).float()
        score = dd.channel_objective(model, layer, _int(opts, "channel", 0))
        smallest = size
        for _ in range(3):  # the full DeepDream's smallest octave (4 octaves, 1.4 apart)
            smallest = max(1, int(smallest / 1.4))
        try:
            with torch.no_grad():
                score(torch.zeros(1, start.shape[0], smallest, smallest))
        except RuntimeError as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise UserError(
                f"size={size} is too small for {model.name}: DeepDream's smallest octave is "
                f"{smallest}x{smallest} ({first}); use a larger size="
            ) from err
        runs = {
            "naive": dd.render(score, start, iter_n=20),
            "multiscale": dd.render(score, start, iter_n=20, octave_n=3),
            "lapnorm": dd.render(score, start, iter_n=20, octave_n=3, lap_n=4),
            "deepdream": dd.render_deepdream(dd.channel_objective(model, layer, None), start),
        }
        shown = []
        for name, (img, scores) in runs.items():
            print(f"{name}: score (mean) {scores[0]:.4f} -> {scores[-1]:.4f} in {len(scores)} steps")
            img = dd.resize(img, (size, size))  # the octave renders end larger
            shown.append(((img - img.min()) / (img.max() - img.min()).clamp(min=1e-8)).detach())
        pictures["dream"] = strip(shown)
    if "style" in shows:
        if not paths or "style" not in opts:
            raise UserError("show=style needs input=<content image> and style=<style image>")
        content = torch.as_tensor(load_image(paths[0], size)).float() / 255.0
        style = torch.as_tensor(load_image(Path(opts["style"]).expanduser(), size)).float() / 255.0
        content_layer, style_layers = STYLE_LAYERS.get(model.name, STYLE_LAYERS["small_cnn"])
        out, losses = style_transfer(model, content, style, content_layer, style_layers=style_layers)
        print(f"style transfer: loss {losses[0]:.4g} -> {losses[-1]:.4g} in {len(losses)} iterations")
        pictures["style"] = strip([content, style, out])
    return pictures
