"""Video files out: linear float frames piped into the ffmpeg that imageio-ffmpeg bundles.

Codecs (`--codec`):

    h264      libx264, yuv420p 8-bit, CRF from --quality; .mp4 (or .mov, .mkv). For viewing.
    prores    prores_ks profile 3 (HQ), yuv422p10le from 16-bit RGB; .mov. For editing.
    lossless  FFV1 level 3, RGB 16-bit per channel (rgb48le, no colour conversion); .mkv.
              Exact to the 16-bit sRGB codes. For post.

Frames arrive as linear light and are encoded with the sRGB curve (clipped to
0..1, rounded) to 8 bits (h264) or 16 bits (prores, lossless); YUV codecs use
the BT.709 matrix, limited range, and every file is tagged BT.709 primaries,
sRGB transfer, so that players decode what was meant.

The encoder writes to a hidden temporary name in the destination folder and the
file is moved into place only after ffmpeg exits cleanly; an interrupted or
failed render kills ffmpeg and deletes the temporary file, so the destination
holds a complete video or nothing new. ffmpeg runs in its own session (Ctrl-C
reaches only Python, which then cleans up) with its log in a temporary file.

imageio_ffmpeg.write_frames is not used: it ignores ffmpeg's exit status and
prints ffmpeg's log straight to the terminal. The process is started here with
the same bundled binary (imageio_ffmpeg.get_ffmpeg_exe()).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.outputs.images import NEW_FILE_MODE
from realtime.sources.images import (
    SRGB_ALPHA,
    SRGB_ENCODE_KNEE,
    SRGB_GAMMA,
    SRGB_LINEAR_SLOPE,
    PathLike,
    one_line,
)

DEFAULT_QUALITY = 8  # --quality when neither the command line nor a cue file sets one
QUALITY_RANGE = (0, 10)  # --quality bounds, 10 best
# h264 CRF from quality q: 33 - 2q. q 5 is x264's default CRF 23, q 8 is CRF 17 (the usual
# "visually lossless"), q 10 is CRF 13. CRF 0 (true lossless) is left out: few players decode it.
CRF_AT_QUALITY_0 = 33
CRF_PER_QUALITY = 2
X264_PRESET = "medium"  # x264's default speed/size trade-off
PRORES_PROFILE_HQ = 3  # prores_ks profiles: 0 proxy, 1 LT, 2 standard, 3 HQ, 4 4444, 5 4444 XQ
FFV1_LEVEL = 3  # FFV1 version 3: multithreaded slices, per-slice CRCs
YUV_SCALE = (  # RGB -> YUV conversion: BT.709 matrix, limited range, accurate rounding
    "scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+full_chroma_int,"
    "setparams=color_primaries=bt709:color_trc=iec61966-2-1:colorspace=bt709:range=tv"
)
RGB_TAGS = ["-color_primaries", "bt709", "-color_trc", "iec61966-2-1", "-colorspace", "rgb"]
FFMPEG_LOG_LEVEL = "error"
FFMPEG_STOP_TIMEOUT_S = 10.0  # after abort(): how long to wait for ffmpeg to die


@dataclass(frozen=True)
class VideoCodec:
    """One `--codec` choice: encoder, pixel formats, containers and encoder options."""

    name: str  # the --codec value
    encoder: str  # ffmpeg encoder
    bits: int  # bits per channel of the RGB frames sent to ffmpeg (8 or 16)
    pix_fmt_out: str  # pixel format stored in the file
    containers: tuple[str, ...]  # file extensions it may be written to
    even_width: bool  # chroma subsampling needs an even width
    even_height: bool  # ... and height (4:2:0)

    @property
    def pix_fmt_in(self) -> str:
        """ffmpeg's name for the raw frames this module sends."""
        return "rgb24" if self.bits == 8 else "rgb48le"

    def options(self, quality: int) -> list[str]:
        """ffmpeg output options (after `-c:v encoder -pix_fmt ...`) for `quality` (0..10)."""
        if self.name == "h264":
            crf = CRF_AT_QUALITY_0 - CRF_PER_QUALITY * quality
            return ["-crf", str(crf), "-preset", X264_PRESET, "-vf", YUV_SCALE]
        if self.name == "prores":
            return ["-profile:v", str(PRORES_PROFILE_HQ), "-vendor", "apl0", "-vf", YUV_SCALE]
        return ["-level", str(FFV1_LEVEL), "-g", "1", "-slicecrc", "1", *RGB_TAGS]


VIDEO_CODECS: dict[str, VideoCodec] = {  # --codec name -> settings
    "h264": VideoCodec("h264", "libx264", 8, "yuv420p", (".mp4", ".mov", ".mkv"), True, True),
    "prores": VideoCodec("prores", "prores_ks", 16, "yuv422p10le", (".mov",), True, False),
    "lossless": VideoCodec("lossless", "ffv1", 16, "rgb48le", (".mkv",), False, False),
}
DEFAULT_CODEC_FOR = {".mp4": "h264", ".mov": "prores", ".mkv": "lossless"}  # by extension
VIDEO_EXTENSIONS = tuple(DEFAULT_CODEC_FOR)  # extensions `rackfocus render -o` writes as video
MOVFLAGS = {".mp4": ["-movflags", "+faststart"], ".mov": ["-movflags", "+faststart"]}


def codec_for(path: PathLike, codec: str | None) -> VideoCodec:
    """The codec to write `path` with (`codec` or the extension's default), checked against
    the container; InputError naming the choices otherwise."""
    ext = Path(path).suffix.lower()
    if ext not in DEFAULT_CODEC_FOR:
        raise InputError(f"{path}: not a video file type; use one of {', '.join(VIDEO_EXTENSIONS)}")
    name = codec if codec is not None else DEFAULT_CODEC_FOR[ext]
    if name not in VIDEO_CODECS:
        raise InputError(f"unknown codec {name!r} (expected {', '.join(VIDEO_CODECS)})")
    chosen = VIDEO_CODECS[name]
    if ext not in chosen.containers:
        raise InputError(
            f"{path}: codec {name} is written to {', '.join(chosen.containers)} files, not {ext}"
        )
    return chosen


def check_quality(quality: int) -> int:
    """`quality` if it is an integer in QUALITY_RANGE; InputError otherwise."""
    lo, hi = QUALITY_RANGE
    if isinstance(quality, bool) or not isinstance(quality, int) or not lo <= quality <= hi:
        raise InputError(f"--quality {quality}: expected an integer {lo}..{hi}")
    return quality


def encode_srgb(linear_rgb: np.ndarray, bits: int) -> np.ndarray:
    """Linear HxWx3 float to sRGB integer codes of `bits` (8 -> uint8, 16 -> uint16 little
    endian), clipped to 0..1 and rounded; NaN becomes 0.

    Evaluated in float32, in place: four times faster than the float64 `linear_to_srgb`
    (which the PNG writer uses), and within one code of it (at 16 bits, ~0.2% of samples).
    """
    x = np.array(linear_rgb, dtype=np.float32)  # a copy, overwritten below
    np.nan_to_num(x, copy=False, nan=0.0, posinf=1.0, neginf=0.0)
    np.clip(x, np.float32(0.0), np.float32(1.0), out=x)
    dark = x <= np.float32(SRGB_ENCODE_KNEE)
    low = x * np.float32(SRGB_LINEAR_SLOPE)
    np.power(x, np.float32(1.0 / SRGB_GAMMA), out=x)
    x *= np.float32(1.0 + SRGB_ALPHA)
    x -= np.float32(SRGB_ALPHA)
    np.copyto(x, low, where=dark)
    x *= np.float32((1 << bits) - 1)
    np.rint(x, out=x)
    return np.ascontiguousarray(x.astype(np.uint8 if bits == 8 else "<u2"))


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return one_line(Exception(lines[-1])) if lines else "no message"


class FFmpegPipe:
    """An ffmpeg process reading raw frames on stdin and writing `path` via a temporary file.

    `finish()` waits for ffmpeg, checks it succeeded and moves the file into
    place; `abort()` kills it and removes the temporary file. Exactly one of
    them ends the pipe.
    """

    def __init__(
        self,
        path: PathLike,
        size: tuple[int, int],
        fps: float,
        pix_fmt_in: str,
        output_args: list[str],
    ) -> None:
        import imageio_ffmpeg

        self.path = Path(path)
        self.size = size
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if not folder.is_dir():
            raise InputError(f"{self.path}: cannot write: folder {folder} does not exist")
        name, suffix = self.path.name, self.path.suffix
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp" + suffix)
        except OSError as e:
            raise InputError(
                f"{self.path}: cannot write into folder {folder}: {one_line(e)}"
            ) from e
        os.close(fd)
        self.tmp = Path(tmp)
        self.log = tempfile.TemporaryFile()
        width, height = size
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-hide_banner",
            "-loglevel",
            FFMPEG_LOG_LEVEL,
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt_in,
            "-s",
            f"{width}x{height}",
            "-r",
            _rational(fps),
            "-i",
            "-",
            "-an",
            *output_args,
            str(self.tmp),
        ]
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self.log,
                start_new_session=True,  # Ctrl-C goes to Python only; we stop ffmpeg ourselves
            )
        except OSError as e:
            self._remove_tmp()
            self.log.close()
            raise RuntimeError(f"cannot start ffmpeg: {one_line(e)}") from e
        self.frames = 0

    def _ffmpeg_log(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def _remove_tmp(self) -> None:
        try:
            self.tmp.unlink()
        except FileNotFoundError:
            pass

    def write(self, data: bytes | np.ndarray) -> None:
        """Send one raw frame."""
        assert self.process is not None and self.process.stdin is not None, "pipe is closed"
        try:
            self.process.stdin.write(data if isinstance(data, bytes) else data.data.cast("B"))
        except (BrokenPipeError, OSError) as e:
            self.process.wait()
            reason = _last_line(self._ffmpeg_log()) or one_line(e)
            self.abort()
            raise RuntimeError(f"{self.path}: ffmpeg stopped: {reason}") from e
        self.frames += 1

    def finish(self) -> None:
        """Close the stream, wait for ffmpeg and move the file into place."""
        process = self.process
        assert process is not None and process.stdin is not None, "pipe is closed"
        try:
            process.stdin.close()
            code = process.wait()
        except BaseException:
            self.abort()
            raise
        self.process = None
        if code != 0 or self.frames == 0:
            reason = _last_line(self._ffmpeg_log()) if code != 0 else "no frames were written"
            self._remove_tmp()
            self.log.close()
            raise RuntimeError(f"{self.path}: ffmpeg failed (exit {code}): {reason}")
        self.log.close()
        try:
            mode = self.path.stat().st_mode & 0o7777 if self.path.exists() else NEW_FILE_MODE
            os.chmod(self.tmp, mode)  # mkstemp makes 0600; give the mode a plain write would
            os.replace(self.tmp, self.path)
        except OSError as e:
            self._remove_tmp()
            raise InputError(f"{self.path}: cannot write: {one_line(e)}") from e

    def abort(self) -> None:
        """Kill ffmpeg (if running) and delete the temporary file; safe to call twice."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.kill()
            try:
                if process.stdin is not None:
                    process.stdin.close()
            except OSError:
                pass  # the pipe is broken: ffmpeg is gone
            try:
                process.wait(timeout=FFMPEG_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        self._remove_tmp()
        if not self.log.closed:
            self.log.close()


def _rational(fps: float) -> str:
    """fps as the rational ffmpeg takes: 24000/1001 given as a float comes back exactly."""
    from fractions import Fraction

    return str(Fraction(fps).limit_denominator(1001))


class VideoWriter:
    """Writes linear RGB frames, in order, to one video file (see the module docstring)."""

    def __init__(
        self,
        path: PathLike,
        size: tuple[int, int],
        fps: float,
        codec: str | None = None,
        quality: int = DEFAULT_QUALITY,
    ) -> None:
        self.path = Path(path)
        self.codec = codec_for(path, codec)
        self.quality = check_quality(quality)
        width, height = size
        odd = []
        if self.codec.even_width and width % 2:
            odd.append(f"width {width}")
        if self.codec.even_height and height % 2:
            odd.append(f"height {height}")
        if odd:
            raise InputError(
                f"{path}: {self.codec.name} ({self.codec.pix_fmt_out}) needs an even "
                f"{' and '.join(odd)}; use --size or --codec lossless"
            )
        self.size = (width, height)
        self.fps = fps
        self._pipe: FFmpegPipe | None = None
        self._next = 0

    @property
    def describe(self) -> str:
        """What is written, for progress and stats lines."""
        return f"{self.codec.name} ({self.codec.encoder}, {self.codec.pix_fmt_out})"

    def frame_path(self, k: int) -> Path | None:
        """Video frames have no file of their own."""
        return None

    def exists(self, k: int) -> bool:
        """Never: a video cannot be resumed."""
        return False

    def _open(self) -> FFmpegPipe:
        c = self.codec
        args = ["-c:v", c.encoder, "-pix_fmt", c.pix_fmt_out, *c.options(self.quality)]
        args += MOVFLAGS.get(self.path.suffix.lower(), [])
        return FFmpegPipe(self.path, self.size, self.fps, c.pix_fmt_in, args)

    def write(self, k: int, linear_rgb: np.ndarray) -> None:
        """Encode frame `k`; frames must come in consecutive order (k is checked)."""
        self.write_codes(k, encode_srgb(linear_rgb, self.codec.bits))

    def write_codes(self, k: int, codes: np.ndarray) -> None:
        """Encode frame `k` given as the codes `write` sends ffmpeg (`encode_srgb` at the
        codec's bits): a render farm's intermediate frames reach the file unchanged."""
        h, w = np.shape(codes)[:2]
        if (w, h) != self.size:
            raise ValueError(f"frame is {w}x{h}, video is {self.size[0]}x{self.size[1]}")
        dtype = np.dtype(np.uint8 if self.codec.bits == 8 else "<u2")
        if codes.dtype != dtype:
            raise ValueError(f"{self.codec.name} frames are {dtype} codes, got {codes.dtype}")
        if self._pipe is None:
            self._pipe = self._open()
        if k != self._next and self._pipe.frames > 0:
            raise ValueError(f"video frames must be consecutive: got {k} after {self._next - 1}")
        self._pipe.write(np.ascontiguousarray(codes))
        self._next = k + 1

    def finish(self) -> None:
        """Finish the file and move it into place (nothing is written without frames)."""
        if self._pipe is not None:
            pipe, self._pipe = self._pipe, None
            pipe.finish()

    def abort(self) -> None:
        """Stop the encoder and leave no file behind."""
        if self._pipe is not None:
            pipe, self._pipe = self._pipe, None
            pipe.abort()


def write_depth_video(path: PathLike, frames: Iterable[np.ndarray], fps: float) -> None:
    """Write uint16 depth frames (HxW) as a lossless FFV1 gray16le .mkv, atomically.

    The samples are stored exactly; read them back with a depth convention
    (e.g. --depth-scale 0.001 for millimetres).
    """
    p = Path(path)
    if p.suffix.lower() != ".mkv":
        raise InputError(f"{p}: depth videos are written as FFV1 in .mkv")
    pipe: FFmpegPipe | None = None
    try:
        for frame in frames:
            arr = np.asarray(frame)
            if arr.ndim != 2 or arr.dtype != np.uint16:
                raise ValueError(f"depth frames must be HxW uint16, got {arr.dtype} {arr.shape}")
            if pipe is None:
                args = [
                    "-c:v",
                    "ffv1",
                    "-level",
                    str(FFV1_LEVEL),
                    "-g",
                    "1",
                    "-pix_fmt",
                    "gray16le",
                ]
                pipe = FFmpegPipe(p, (arr.shape[1], arr.shape[0]), fps, "gray16le", args)
            elif (arr.shape[1], arr.shape[0]) != pipe.size:
                raise ValueError("depth frames differ in size")
            pipe.write(np.ascontiguousarray(arr, dtype="<u2"))
        if pipe is None:
            raise ValueError("no depth frames to write")
        pipe.finish()
    except BaseException:
        if pipe is not None:
            pipe.abort()
        raise


__all__ = [
    "DEFAULT_CODEC_FOR",
    "DEFAULT_QUALITY",
    "QUALITY_RANGE",
    "VIDEO_CODECS",
    "VIDEO_EXTENSIONS",
    "FFmpegPipe",
    "VideoCodec",
    "VideoWriter",
    "check_quality",
    "codec_for",
    "encode_srgb",
    "write_depth_video",
]
