"""Frame sinks for recordings: an H.264 MP4 (imageio-ffmpeg) or a numbered PNG sequence.

Both are context managers taking RGB frames (H, W, 3) uint8 through `write`. The MP4 is encoded
into a temporary file beside the target and renamed onto it only when the recording completes;
each PNG is written atomically too. On an exception the partial MP4 is removed.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from layoutfile import atomic_path


def frame_count(duration: float, fps: float) -> int:
    """Frames in `duration` seconds at `fps`: frame k shows time k / fps (10 s at 30 fps = 300)."""
    return max(1, round(duration * fps))


class _FrameSink:
    def __init__(self, size: tuple[int, int]):
        self.size = size
        self.frames_written = 0
        self._stack = contextlib.ExitStack()

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB frame of the sink's (width, height)."""
        width, height = self.size
        if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame is {frame.shape} {frame.dtype}, expected ({height}, {width}, 3) uint8")
        self._write(np.ascontiguousarray(frame))
        self.frames_written += 1

    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> bool | None:
        return self._stack.__exit__(*exc_info)


class Mp4Writer(_FrameSink):
    """H.264 (libx264, yuv420p) video at a fixed frame rate; width and height must be even."""

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], fps: float, crf: int = 18):
        super().__init__(size)
        if size[0] % 2 or size[1] % 2:
            raise ValueError(f"H.264 with yuv420p needs an even width and height, not {size[0]}x{size[1]}")
        self.path = Path(path)
        tmp = self._stack.enter_context(atomic_path(self.path))
        try:
            self._encoder = imageio_ffmpeg.write_frames(
                str(tmp), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
                quality=None, macro_block_size=1, output_params=["-crf", str(crf), "-movflags", "+faststart"])
            self._encoder.send(None)  # start ffmpeg
        except BaseException:
            self._stack.close()
            raise
        self._stack.callback(self._encoder.close)  # runs before the rename: the file is complete

    def _write(self, frame: np.ndarray) -> None:
        self._encoder.send(frame)


class PngSequenceWriter(_FrameSink):
    """frame_000000.png, frame_000001.png, … in a folder (created if needed)."""

    def __init__(self, folder: str | os.PathLike, size: tuple[int, int]):
        super().__init__(size)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _write(self, frame: np.ndarray) -> None:
        with atomic_path(self.folder / f"frame_{self.frames_written:06d}.png") as tmp:
            Image.fromarray(frame).save(tmp, compress_level=3)
