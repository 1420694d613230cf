"""The frame loop every front end shares: (input frame k, lens) -> composited texture.

A front end decides which frame and lens to show (the batch renderer: frame k at
t = k / fps; the preview: the frame its playback shows at time t and the lens
its controls give) and hands both to `FrameLoop.compose`, which

    uploads the input frame only when it differs from the one in the textures
    (a still pair is uploaded once, a sequence once per input frame), and
    runs the pass chain only when the input frame or the lens changed,

then gives the composite to its sink: a file writer (`FileSink`: readback,
optional focus breathing, encode) or a window (the preview's display pass).
Stage times are collected here, once, in a `StageTimes`.

With a `Tiling` (batch renders), a frame past the GPU's limit or the memory
budget stays on the host and `compose_frame` returns a `TiledComposite`
(realtime.tiling) whose bands the sink streams to the writer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

import numpy as np

from realtime.errors import InputError
from realtime.focus import BREATHING_OFF, breathing_scale
from realtime.lens import Lens
from realtime.pipeline import depth_range
from realtime.sources.edge_offset import depth_edge_offset, undo_offset
from realtime.sources.holes import fill_invalid_depth
from realtime.sources.images import decode_srgb_integers
from realtime.tiling import TiledComposite, Tiling, max_side_px

if TYPE_CHECKING:
    import moderngl

    from realtime.outputs import FrameWriter
    from realtime.passes.depth import DepthConditioner
    from realtime.passes.resample import Resample
    from realtime.passes.upsample import GuidedUpsampler
    from realtime.pipeline import Compositor
    from realtime.sources.frames import RGBDFrames
    from realtime.sources.live import LiveFrame, LiveSource

STAGES = ("input", "condition", "gpu", "readback", "breathing", "encode")  # in loop order
StageTimes = dict[str, float]  # seconds spent per stage


def stage_times() -> StageTimes:
    """Zero seconds for every stage."""
    return dict.fromkeys(STAGES, 0.0)


@contextmanager
def timed(times: StageTimes, stage: str) -> Iterator[None]:
    """Add the wall time of the block to `times[stage]`."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        times[stage] += time.perf_counter() - t0


class FrameSource(Protocol):
    """What the loop reads frames from (sources.frames.RGBDFrames, StillFrames, a test's fake)."""

    def input_index(self, k: int) -> int:
        """The input frame output frame k shows; equal indices mean equal frames."""
        ...

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(colour HxWx3 linear float32, depth HxW metres) of output frame k; colour may
        also be its sRGB integer samples (load_color's keep_integers), decoded on upload."""
        ...


class StillFrames:
    """One colour and depth pair, shown at every frame."""

    def __init__(self, color: np.ndarray, depth: np.ndarray) -> None:
        self.frames = (color, depth)

    def input_index(self, k: int) -> int:
        return 0

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.frames


class LiveFrames:
    """A live source (a camera) as a FrameSource: frame n is the n-th frame the loop took.

    `poll()` takes the source's newest frame, if one arrived, without waiting;
    frames the loop never took were dropped by the source (it keeps only the
    newest). Numbering the frames taken, not the camera's, keeps the depth
    conditioning's temporal window on consecutive frames.
    """

    def __init__(self, live: LiveSource) -> None:
        self.live = live
        self.frame: LiveFrame | None = None  # the newest frame taken
        self.index = -1  # its number; -1 before the first

    def poll(self) -> bool:
        """Take the newest frame if there is one; True if it is new."""
        frame = self.live.latest()
        if frame is None:
            return False
        self.frame = frame
        self.index += 1
        return True

    def input_index(self, k: int) -> int:
        return k

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        assert self.frame is not None, "no frame taken yet"
        return self.frame.color, self.frame.depth


def input_fps(fps: float | None, source: RGBDFrames) -> float:
    """The rate a clip's input frames play at in live use (the preview, the show): `fps`
    (the option); else the colour video's frame rate, else the depth video's; else 24."""
    from realtime.outputs import DEFAULT_FPS
    from realtime.sources.video import ColorVideo, DepthVideo

    if fps is not None:
        return fps
    for stream in (source.color, source.depth):
        if isinstance(stream, ColorVideo | DepthVideo) and stream.reader.fps > 0:
            return stream.reader.fps
    return DEFAULT_FPS


class FrameLoop:
    """Input frames and lenses in, composites out; uploads and renders only on change.

    With `sync`, the GL queue is drained (`ctx.finish()`) after the chain, so its
    time is billed to "gpu" and not to whatever reads the result next (batch
    renders); a window's swap syncs anyway, so the preview leaves it off.
    """

    def __init__(
        self,
        compositor: Compositor,
        source: FrameSource,
        sync: bool = False,
        condition_depth: bool = False,
        tiling: Tiling | None = None,
    ) -> None:
        """With `condition_depth`, sensor depth is conditioned as it is uploaded: moved back
        by the offset its edges all share (realtime.sources.edge_offset) and its holes
        filled by colour on the CPU, then on the GPU (realtime.passes.depth) noise and
        flicker averaged out and edges snapped to colour edges. With `tiling`, frames it
        does not fit are rendered in tiles (`compose_frame`); without, a frame past the
        GPU's limit is an InputError."""
        self.compositor = compositor
        self.source = source
        self.sync = sync
        self.tiling = tiling
        self.frame: tuple[np.ndarray, np.ndarray] | None = None  # a frame rendered in tiles
        self.frame_depths = (math.inf, math.inf)  # its nearest and farthest depth (m)
        self.max_side = max_side_px(compositor.ctx)  # the GPU's largest texture side, px
        self.conditioner: DepthConditioner | None = None
        if condition_depth:
            from realtime.passes.depth import DepthConditioner

            self.conditioner = DepthConditioner(compositor.ctx)
        self.upsampler: GuidedUpsampler | None = None  # made for the first smaller depth
        self.depth_offset = (0, 0)  # (right, down) px the conditioning moved the last depth back
        self.times = stage_times()
        self.index: int | None = None  # input frame the textures hold
        self.size: tuple[int, int] | None = None  # (width, height) of the frames
        # its depth (metres), for picking and views: at the frame's size once upsampled,
        # the input's own (smaller) depth for a frame rendered in tiles
        self.depth: np.ndarray | None = None
        self.textures: tuple[moderngl.Texture, moderngl.Texture] | None = None
        self.composite: moderngl.Texture | None = None
        self.inputs: tuple[moderngl.Texture, moderngl.Texture] | None = None  # the composite's
        self.rendered: tuple[Lens, int, float] | None = None  # its lens, input frame and scale
        self.composites = 0  # how often the chain ran
        self.resample: Resample | None = None  # made on the first scaled frame

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the frames; the first frame sets it."""
        assert self.size is not None, "no frame shown yet"
        return self.size

    def show(self, k: int) -> bool:
        """Upload the input frame of output frame k unless the textures hold it; True if new.

        Every frame must have the first frame's size (InputError otherwise).
        """
        index = self.source.input_index(k)
        if index == self.index:
            return False
        if self.conditioner is not None and self.index != index - 1:
            self._warm_up(k, index)
        self.textures = self._upload(k, index)
        self.index = index
        return True

    def _upload(self, k: int, index: int) -> tuple[moderngl.Texture, moderngl.Texture] | None:
        """Output frame k (input frame `index`) into the textures, depth conditioned if on;
        None for a frame rendered in tiles (kept in `frame`)."""
        with timed(self.times, "input"):
            color, depth = self.source.read(k)
            h, w = color.shape[:2]
            if self.size is not None and (w, h) != self.size:
                width, height = self.size
                raise InputError(
                    f"input frame {index} is {w}x{h} but the first is {width}x{height}; "
                    "every frame must have the same size"
                )
            self.size = (w, h)
        if self.conditioner is not None and depth.shape == (h, w):
            # Sensor depth, holes and all: edges all off by one offset are moved back, then
            # holes are filled by colour on the CPU, which follows a shadow's colour edge
            # where the GPU fill takes the far side (on the sensor-like ground-truth scenes
            # the GPU fill alone gave 38.89 dB against 44.99 on thin posts and 33.66
            # against 34.47 on the foreground scene)
            with timed(self.times, "condition"):
                self.depth_offset = depth_edge_offset(color, depth)
                depth = undo_offset(depth, *self.depth_offset)
                valid = np.isfinite(depth) & (depth > 0)
                if valid.any() and not valid.all():  # none at all: the GPU passes cope
                    depth = fill_invalid_depth(depth, color)
        with timed(self.times, "input"):
            self.depth = depth
            self.frame = None
            if self.tiling is not None and not self.tiling.fits(w, h):
                self.frame = (color, depth)
                self.frame_depths = depth_range(depth)  # once per input frame, not per lens
                return None
            if max(w, h) > self.max_side:
                raise InputError(
                    f"{w}x{h} frame is larger than the GPU's limit of {self.max_side} px; "
                    "rackfocus render renders such frames in tiles"
                )
            if color.dtype.kind == "u":
                color = decode_srgb_integers(color)
            color_tex, depth_tex = self.compositor.upload(color, depth)
        if depth_tex.size != color_tex.size:
            with timed(self.times, "condition"):
                depth_tex = self._upsampler().run(color_tex, depth_tex)
                self.depth = np.frombuffer(depth_tex.read(), np.float32).reshape(h, w)
        if self.conditioner is None:
            return color_tex, depth_tex
        with timed(self.times, "condition"):
            conditioned = self.conditioner.run(color_tex, depth_tex, index)
            if self.sync:
                self.compositor.ctx.finish()
        return color_tex, conditioned

    def _upsampler(self) -> GuidedUpsampler:
        """The guided upsampling of depth smaller than the colour, made when first needed."""
        if self.upsampler is None:
            from realtime.passes.upsample import GuidedUpsampler

            self.upsampler = GuidedUpsampler(self.compositor.ctx)
        return self.upsampler

    def _warm_up(self, k: int, index: int) -> None:
        """Condition the input frames before `index` that its temporal window reads, so
        that frame `index` is the same wherever a render starts (chunks equal wholes)."""
        from realtime.passes.depth import TEMPORAL_FRAMES

        for back in range(min(TEMPORAL_FRAMES, index), 0, -1):
            self._upload(k - back, index - back)

    def compose_frame(self, k: int, lens: Lens) -> moderngl.Texture | TiledComposite:
        """`compose`, or for a frame `tiling` does not fit its tiles, rendered as read."""
        self.show(k)
        if self.frame is None:
            return self.compose(k, lens)
        assert self.tiling is not None
        width, height = self.image_size
        # padding for the frame's own largest blur, not the chain's limit
        blur = lens.largest_coc_px(self.frame_depths, width)
        color, depth = self.frame
        upsampler, reach = None, 0  # windows also hold what depth at their edge depends on
        if depth.shape != color.shape[:2]:  # smaller depth: the upsampling's reach
            from realtime.passes.upsample import reach_px

            upsampler = self._upsampler()
            reach = reach_px((depth.shape[1], depth.shape[0]), (width, height))
        if self.conditioner is not None:  # and the conditioning's
            from realtime.passes.depth import reach_px as conditioning_reach_px

            reach += conditioning_reach_px()
        plan = self.tiling.plan(width, height, min(lens.clamp_px, blur), reach)
        self.composites += 1
        return TiledComposite(
            self.compositor, color, depth, lens, plan, self.times, upsampler, self.conditioner
        )

    def compose(self, k: int, lens: Lens, scale: float = 1.0) -> moderngl.Texture:
        """The composite of output frame k through `lens` (the last one if nothing changed).

        A `scale` below 1 renders the chain on the frame resampled to that scale
        (adaptive resolution): the CoC follows the smaller width, so the blur covers
        the same share of the picture. `inputs` holds the textures it was made from.
        """
        self.show(k)
        assert self.textures is not None and self.index is not None
        if self.composite is None or self.rendered != (lens, self.index, scale):
            with timed(self.times, "gpu"):
                if scale >= 1.0:
                    self.inputs = self.textures
                elif self.rendered is None or self.rendered[1:] != (self.index, scale):
                    if self.resample is None:  # the frame or the scale is new: resample it
                        from realtime.passes.resample import Resample

                        self.resample = Resample(self.compositor.ctx)
                    self.inputs = self.resample.run(*self.textures, scale)
                assert self.inputs is not None
                color, depth = self.inputs
                self.composite = self.compositor.render_textures(color, depth, lens)
                if self.sync:
                    self.compositor.ctx.finish()
            self.rendered = (lens, self.index, scale)
            self.composites += 1
        return self.composite


class FileSink:
    """Composites into a FrameWriter: readback, focus breathing, encode, each timed.

    `readback` returns only when the GPU has finished the frame; with a background
    writer the encoding of frame k overlaps the rendering of frame k + 1.

    Focus breathing (`breathing` != 0) magnifies each frame about its centre by
    `breathing_scale(lens, focus)`, bilinear, edges clamped, after the depth of
    field: the blur is not rescaled with it (the scale is within a few per cent).
    """

    def __init__(
        self,
        writer: FrameWriter,
        times: StageTimes,
        breathing: float = BREATHING_OFF,
        background: bool = False,
    ) -> None:
        """With `background`, the writer encodes on its own thread while the next frame
        renders (outputs.background); "encode" then times only the waits for it."""
        if background:
            from realtime.outputs.background import BackgroundWriter

            writer = BackgroundWriter(writer)
        self.writer = writer
        self.times = times
        self.breathing = breathing

    def write(self, k: int, composite: moderngl.Texture | TiledComposite, lens: Lens) -> None:
        """Read `composite` back and write it as frame k.

        A tiled composite goes to the writer in bands when it can take them
        (`write_bands`: image files) and nothing is rescaled; otherwise (video,
        breathing) its bands are assembled into the whole frame first.
        """
        from realtime.pipeline import read_rgb

        if isinstance(composite, TiledComposite):
            write_bands = getattr(self.writer, "write_bands", None)
            if write_bands is not None and self.breathing == BREATHING_OFF:
                self._write_bands(k, composite, write_bands)
                return
            rgb = composite.assemble()
        else:
            with timed(self.times, "readback"):
                rgb = read_rgb(composite)
        if self.breathing != BREATHING_OFF:
            with timed(self.times, "breathing"):
                rgb = breathe(rgb, breathing_scale(lens, lens.focus_m, self.breathing))
        with timed(self.times, "encode"):
            self.writer.write(k, rgb)

    def _write_bands(
        self, k: int, composite: TiledComposite, write_bands: Callable[..., None]
    ) -> None:
        """Stream the bands into the writer; its own time (less the tiles') is encode time."""
        tiles = ("input", "gpu", "readback")
        before = sum(self.times[s] for s in tiles)
        t0 = time.perf_counter()
        write_bands(k, composite.size, composite.bands())
        spent = sum(self.times[s] for s in tiles) - before
        self.times["encode"] += time.perf_counter() - t0 - spent

    def finish(self) -> None:
        with timed(self.times, "encode"):
            self.writer.finish()

    def abort(self) -> None:
        self.writer.abort()


def _axis(n: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear taps (i0, i1, fraction) along one axis for a magnification about the centre."""
    x = (np.arange(n) + 0.5 - n / 2) / scale + n / 2 - 0.5
    x = np.clip(x, 0.0, n - 1.0)
    i0 = np.floor(x).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, (x - i0).astype(np.float32)


def breathe(rgb: np.ndarray, scale: float) -> np.ndarray:
    """`rgb` magnified by `scale` about its centre (bilinear, edges clamped); >1 crops in."""
    if scale == 1.0:
        return rgb
    h, w = rgb.shape[:2]
    y0, y1, fy = _axis(h, scale)
    x0, x1, fx = _axis(w, scale)
    rows = rgb[y0] * (1 - fy)[:, None, None] + rgb[y1] * fy[:, None, None]
    out = rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]
    return np.ascontiguousarray(out, dtype=np.float32)


__all__ = [
    "STAGES",
    "FileSink",
    "FrameLoop",
    "FrameSource",
    "LiveFrames",
    "StageTimes",
    "StillFrames",
    "breathe",
    "input_fps",
    "stage_times",
    "timed",
]
