"""`rlkit data pix2pix ...`: the book's tools/process.py and tools/split.py, making pix2pix A|B folders.

    rlkit data pix2pix operation=resize input_dir=photos/original output_dir=photos/resized size=256
    rlkit data pix2pix operation=blank input_dir=photos/resized output_dir=photos/blank
    rlkit data pix2pix operation=combine input_dir=photos/resized b_dir=photos/blank output_dir=photos/ab1
    rlkit data pix2pix operation=trainval input_dir=photos/ab1 output_dir=photos/ab train_frac=0.8
    rlkit train agent=pix2pix env=pix2pix_folder env.kwargs.root=photos/ab env.kwargs.direction=BtoA

Operations (rlkit.envs.image2image_data): resize, grayscale, blank, edges, blur, combine (A|B with the
same-named image of b_dir), split (A|B back into output_dir/A and output_dir/B), trainval (split.py).
"""

from __future__ import annotations

from rlkit.core.diskio import writing
from rlkit.core.errors import UserError, invalid_choice
from rlkit.envs.image2image_data import OPERATIONS, write_processed, write_train_val
from rlkit.frontend.keyargs import number, parse_args

DATASETS = ("pix2pix",)
OPERATION_NAMES = (*OPERATIONS, "combine", "split", "trainval")
DATA_KEYS = {
    "operation": f"one of {', '.join(OPERATION_NAMES)} (required)",
    "input_dir": "folder of images to process (required)",
    "output_dir": "folder to write the results to (required)",
    "b_dir": "combine: the folder of B images, named as those of input_dir",
    "size": "resize: the side of the square images (default 256)",
    "train_frac": "trainval: share of the images that go to train/ (default 0.8)",
    "seed": "trainval: the random split's seed (default 0)",
}


def data_help() -> str:
    """Text of `rlkit data --help`."""
    lines = ["usage: rlkit data pix2pix key=value ...", "", "keys:"]
    lines += [f"  {key:<11} {text}" for key, text in DATA_KEYS.items()]
    return "\n".join([*lines, "", *(__doc__ or "").splitlines()[1:8]])


def data_command(args: list[str]) -> int:
    """`rlkit data pix2pix key=value ...`: writes the processed images and prints how many."""
    if not args or args[0] not in DATASETS:
        got = f"'{args[0]}'" if args else "nothing"
        raise UserError(
            f"`rlkit data` takes a data set format first, got {got}; valid: {', '.join(DATASETS)}"
        )
    opts, _ = parse_args("data", args[1:], DATA_KEYS)
    for key in ("operation", "input_dir", "output_dir"):
        if key not in opts:
            raise UserError(f"`rlkit data pix2pix` needs {key}=; keys: {', '.join(DATA_KEYS)}")
    op, out = opts["operation"], opts["output_dir"]
    if op not in OPERATION_NAMES:
        raise invalid_choice(f"operation={op!r}", OPERATION_NAMES, "operations")
    with writing(out):
        if op == "trainval":
            frac = number(opts, "train_frac", float, 0.8)
            written = write_train_val(opts["input_dir"], out, frac, number(opts, "seed", int, 0))
        else:
            size = number(opts, "size", int, 256, 1)
            written = write_processed(op, opts["input_dir"], out, opts.get("b_dir"), size)
    print(f"Wrote {len(written)} images to {out}", flush=True)
    return 0
