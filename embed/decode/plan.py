"""What the decode paths make of each image (`DecodePlan`), what they give back (`Decoded`, `Batch`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from embed.network.models import lab_grid
from embed.options import COLOUR_BLOCKS
from embed.image.file import ImageReadError

DECODE_ERRORS = (ImageReadError, OSError, ValueError, SyntaxError, EOFError)  # PIL's ways to fail on bad data


@dataclass(frozen=True)
class DecodePlan:
    """What to make from each decoded image."""

    thumb_size: int                           # side of the square thumbnail
    fit: str                                  # 'crop' or 'pad' (embed.image.square.FITS)
    background: tuple[int, int, int]          # behind transparency and letterboxing
    base_size: int                            # the network's input side
    levels: tuple[float, ...]                 # blur levels of the colour blocks
    network_levels: tuple[float, ...] = (0.0,)   # blur levels of the network inputs (0: the original)
    block_side: int = COLOUR_BLOCKS.side      # side of the blurred squares the colour blocks are taken from
    trim_borders: bool = False                # uniform borders cropped after decoding (embed/image/borders.py)


@dataclass
class Decoded:
    """One image's outputs: thumbnail, mean Lab colour, network inputs and colour blocks by blur level."""

    thumb: np.ndarray                         # (thumb_size, thumb_size, 3) uint8
    colour: np.ndarray                        # (3,) float32 CIELAB of the thumbnail's mean
    inputs: dict[float, np.ndarray]           # network level → (base_size, base_size, 3) uint8
    blocks: dict[float, np.ndarray]           # colour level → (COLOUR_BLOCKS.dims,) float32
    seconds: dict[str, float] = field(default_factory=dict)   # time per sub-stage of making it


Item = tuple  # (index, None, Decoded) or (index, failure reason, None)


@dataclass
class Batch:
    """Decoded images of one batch, stacked: `index` are their positions in the records given, `failed`
    (position, reason) the images that did not decode; `seconds` the decode time per sub-stage, summed
    over the images (worker time, overlapping the caller's)."""

    index: np.ndarray
    failed: list[tuple[int, str]]
    thumbs: np.ndarray | None = None
    colours: np.ndarray | None = None
    inputs: dict[float, np.ndarray] = field(default_factory=dict)
    blocks: dict[float, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, items: list[Item], seconds: dict[str, float] | None = None) -> Batch:
        """Stack the decoded items (in order) and list the failed ones."""
        ok = [made for _, _, made in items if made is not None]
        total: dict[str, float] = defaultdict(float, seconds or {})
        for made in ok:
            for name, value in made.seconds.items():
                total[name] += value
        batch = cls(index=np.array([i for i, _, made in items if made is not None], dtype=np.int64),
                    failed=[(i, reason) for i, reason, made in items if made is None], seconds=dict(total))
        if ok:
            batch.thumbs = np.stack([made.thumb for made in ok])
            batch.colours = np.stack([made.colour for made in ok])
            batch.inputs = {level: np.stack([made.inputs[level] for made in ok]) for level in ok[0].inputs}
            batch.blocks = {level: np.stack([made.blocks[level] for made in ok]) for level in ok[0].blocks}
        return batch


def lab_blocks(small: np.ndarray) -> np.ndarray:
    """The Lab grids (COLOUR_BLOCKS.grids) of one blurred COLOUR_BLOCKS.side-px square, one flat float32 row."""
    return np.concatenate([lab_grid(small[None], cells)[0] for cells in COLOUR_BLOCKS.grids])
