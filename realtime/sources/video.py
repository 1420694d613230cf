"""Video inputs: colour and depth frames decoded by the ffmpeg that imageio-ffmpeg bundles.

Colour is decoded to 16-bit RGB and then from sRGB to linear. Depth videos must
hold exact samples: 16-bit grey (FFV1 gray16le in .mkv, see
outputs.video.write_depth_video) or 8-bit grey; a colour (YUV) depth video is
accepted only with --inverse-depth, whose relative depth tolerates the loss,
and is read as its luma.

Video inputs decode sequentially: reading frame i after frame j < i skips the frames
between; reading backwards restarts the decoder. A chunk starting at frame A of a
video therefore decodes (and drops) A frames first: exact, and cheap next to rendering.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from realtime.errors import InputError
from realtime.sources.depth import DepthConvention, depth_to_metres
from realtime.sources.images import PathLike, check_file, decode_srgb_integers, one_line

# --- decoding -----------------------------------------------------------------------------


def _ffmpeg_reason(error: BaseException) -> str:
    """The informative line of an imageio-ffmpeg error: ffmpeg's last line of log."""
    lines = [
        line.strip()
        for line in str(error).splitlines()
        if line.strip() and not line.startswith("===")
    ]
    return one_line(Exception(lines[-1])) if lines else type(error).__name__


def _source_pix_fmt(meta: dict) -> str:
    """'gray16le' from imageio-ffmpeg's 'gray16le(pc, ...)' (the pixel format stored)."""
    return str(meta.get("pix_fmt", "")).split("(")[0].strip().rstrip(",")


def probe_video(path: PathLike) -> tuple[dict, int]:
    """(imageio-ffmpeg metadata, exact frame count) of a video file; InputError if unreadable."""
    import imageio_ffmpeg

    p = check_file(path)
    try:
        gen = imageio_ffmpeg.read_frames(str(p))
        try:
            meta = next(gen)
        finally:
            gen.close()
        count, _ = imageio_ffmpeg.count_frames_and_secs(str(p))
    except (OSError, RuntimeError, StopIteration) as e:
        raise InputError(f"{p}: cannot read as video: {_ffmpeg_reason(e)}") from e
    if not count:
        raise InputError(f"{p}: video has no frames")
    return meta, int(count)


class VideoReader:
    """Frames of one video as numpy arrays in `pix_fmt`, read sequentially by index."""

    def __init__(
        self,
        path: PathLike,
        pix_fmt: str,
        dtype: str,
        channels: int,
        probe: tuple[dict, int] | None = None,
    ) -> None:
        self.path = check_file(path)
        self.meta, self.frame_count = probe if probe is not None else probe_video(self.path)
        self.source_pix_fmt = _source_pix_fmt(self.meta)
        self.size: tuple[int, int] = tuple(self.meta["size"])  # type: ignore[assignment]
        self.fps = float(self.meta.get("fps") or 0.0)
        self.pix_fmt = pix_fmt
        self.dtype = np.dtype(dtype)
        self.channels = channels
        self._gen: Generator[Any, None, None] | None = None
        self._next = 0
        self._last: tuple[int, np.ndarray] | None = None  # the frame read last

    def _open(self) -> None:
        import imageio_ffmpeg

        self.close()
        bits = self.dtype.itemsize * 8 * self.channels
        gen = imageio_ffmpeg.read_frames(str(self.path), pix_fmt=self.pix_fmt, bits_per_pixel=bits)
        self._gen = gen
        try:
            next(gen)  # metadata
        except (OSError, RuntimeError, StopIteration) as e:
            self.close()
            raise InputError(f"{self.path}: cannot read as video: {_ffmpeg_reason(e)}") from e
        self._next = 0

    def read(self, index: int) -> np.ndarray:
        """Frame `index` (0-based) as HxW or HxWxC of `dtype`."""
        if not 0 <= index < self.frame_count:
            raise InputError(f"{self.path}: no frame {index} (the video has {self.frame_count})")
        if self._last is not None and self._last[0] == index:
            return self._last[1]
        if self._gen is None or index < self._next:
            self._open()
        assert self._gen is not None
        try:
            while True:
                data = next(self._gen)
                self._next += 1
                if self._next > index:
                    break
        except (RuntimeError, StopIteration) as e:
            self.close()
            reason = "the video ended early" if isinstance(e, StopIteration) else _ffmpeg_reason(e)
            raise InputError(f"{self.path}: cannot decode frame {index}: {reason}") from e
        w, h = self.size
        shape = (h, w) if self.channels == 1 else (h, w, self.channels)
        frame = np.frombuffer(data, dtype=self.dtype.newbyteorder("<")).reshape(shape)
        self._last = (index, frame)
        return frame

    def close(self) -> None:
        """Stop the decoder (it restarts on the next read)."""
        if self._gen is not None:
            self._gen.close()
            self._gen = None


# --- the two streams a video can be -------------------------------------------------------


class ColorVideo:
    """Colour frames of a video, decoded to 16-bit RGB, then sRGB to linear float32."""

    def __init__(self, path: PathLike) -> None:
        self.label = str(path)
        self.reader = VideoReader(path, "rgb48le", "<u2", 3)
        self.frame_count: int | None = self.reader.frame_count

    def read(self, index: int) -> np.ndarray:
        """Frame `index` as HxWx3 linear float32."""
        return np.ascontiguousarray(decode_srgb_integers(self.reader.read(index)))

    def close(self) -> None:
        """Stop the decoder."""
        self.reader.close()


class DepthVideo:
    """Depth frames of a grey video, converted to metres by a DepthConvention."""

    def __init__(self, path: PathLike, convention: DepthConvention) -> None:
        self.label = str(path)
        self.convention = convention
        probe = probe_video(path)
        stored = _source_pix_fmt(probe[0])
        if stored.startswith("gray16"):
            pix_fmt, dtype = "gray16le", "<u2"
        elif stored == "gray":
            pix_fmt, dtype = "gray", "u1"
        elif convention.kind == "inverse":
            pix_fmt, dtype = "gray16le", "<u2"  # luma, normalised by 65535 like 16-bit files
        else:
            raise InputError(
                f"{path}: depth video stores {stored or 'an unknown pixel format'}; depth needs "
                "exact grey samples (FFV1 gray16le in .mkv, or 8-bit gray), or --inverse-depth "
                "for a relative depth video"
            )
        if convention.kind == "metric":
            raise InputError(
                f"{path}: depth video holds integers ({stored}) with no unit; pass --depth-scale "
                "(e.g. 0.001 for millimetres), or --disparity / --inverse-depth"
            )
        self.reader = VideoReader(path, pix_fmt, dtype, 1, probe)
        self.frame_count: int | None = self.reader.frame_count

    def read(self, index: int) -> np.ndarray:
        """Frame `index` as HxW float32 metres, NaN where the sample means no data."""
        z = depth_to_metres(self.reader.read(index), self.convention)
        if np.isnan(z).all():
            raise InputError(f"{self.label}: frame {index} has no valid depth")
        return z

    def close(self) -> None:
        """Stop the decoder."""
        self.reader.close()


__all__ = ["ColorVideo", "DepthVideo", "VideoReader", "probe_video"]
