"""Depth conditioning: sensor depth made fit for the chain, on the GPU, before `prepare`.

Sensor depth (RealSense, Kinect, phones) has holes, noise that grows with
distance squared, edges a pixel or two off the colour edges, and flicker from
frame to frame; blur driven by it raw shows halos at edges and shimmers. Three
steps, each a pass (shaders/depth_*.frag), all in inverse depth w = 1/z:

    fill      a pyramid: `DepthReduce` keeps the farthest valid w of each 2x2
              block, level by level; `DepthFill` gives each hole, from the coarsest
              level back up, the value of the smallest block around it with data
    refine    `DepthRefine`: denoise flat windows, snap depth edges to colour edges
    temporal  `DepthTemporal`: average each pixel over up to TEMPORAL_FRAMES earlier
              refined frames where its colour and depth did not change

`DepthConditioner` runs them. Frame k's output depends on the raw frames
k - TEMPORAL_FRAMES .. k only (the temporal pass reads refined frames, never
earlier outputs), so a clip chunk equals the same frames of a whole render as
long as the frame loop first feeds the TEMPORAL_FRAMES frames before a chunk's
start (realtime.frameloop does).
"""

from __future__ import annotations

import math

import moderngl
import numpy as np

from realtime.passes.base import FullscreenPass, Size

REFINE_RADIUS = 2  # steps (|dx| + |dy|) the refine window covers densely
REFINE_SIGMA_PX = 1.5  # px: spatial gaussian of the refine window's means
# Sparse rings beyond the dense window, (radius px, taps): a sensor's depth edge may sit
# several pixels off the colour edge (misregistration, stereo edge fattening), and the
# vote that moves it needs pixels of both colours on the correct side of it in the window.
REFINE_RINGS = ((3.5, 8), (5.0, 8))
# Thresholds are in inverse depth (dioptres, 1/m), where a stereo sensor's noise is the
# same at every distance (sigma_z = z^2 s / (f B), so sigma_w = s / (f B)) and where the
# CoC is linear (a step of dw changes the CoC by K dw px; K is tens of px m for a portrait
# lens at 1080p, so 0.005 /m is a tenth of a pixel of blur).
EDGE_DW = 0.02  # smallest depth step treated as an edge, 1/m
EDGE_SEPARATION = 3.0  # an edge's near and far sets lie this many spreads apart (noise: 1.3)
MATCH_SIGMA = 0.1  # guide-colour spread below which colour differences are not told apart
SNAP_MARGIN = 1.0  # nats of colour likelihood by which one side of an edge must win
LIGHT_LINEAR = 1.0  # a colour channel above this (linear) is a light, not a surface's colour
TEMPORAL_FRAMES = 4  # earlier frames the temporal pass averages over (four named samplers)
TEMPORAL_COLOR_SIGMA = 0.04  # guide-colour change at which an earlier frame's weight is 0.61
TEMPORAL_DW = 0.005  # an earlier frame whose w differs by more than this (1/m) is ignored


def refine_taps() -> np.ndarray:
    """Rows (x, y, weight) of the refine window: offsets within REFINE_RADIUS steps
    (|x| + |y|, a diamond), then REFINE_RINGS (each ring turned by half a tap from the
    last), weighted by a gaussian of REFINE_SIGMA_PX."""
    span = range(-REFINE_RADIUS, REFINE_RADIUS + 1)
    offsets = [(x, y) for y in span for x in span if abs(x) + abs(y) <= REFINE_RADIUS]
    for i, (radius, count) in enumerate(REFINE_RINGS):
        for k in range(count):
            angle = 2 * math.pi * (k + 0.5 * i) / count
            offsets.append((round(radius * math.cos(angle)), round(radius * math.sin(angle))))
    rows = [(x, y, math.exp(-(x * x + y * y) / (2 * REFINE_SIGMA_PX**2))) for x, y in offsets]
    return np.array(rows, dtype=np.float32)


def reach_px() -> int:
    """How far from a pixel the refine reads (its window's largest offset), px: what a
    tile's window must hold around it. (The hole fill reads farther, but depth rendered
    in tiles comes from files, filled on the CPU: it has no holes left to fill.)"""
    return int(np.abs(refine_taps()[:, :2]).max())


def conditioning_defines() -> dict[str, object]:
    """The #defines of the conditioning passes, from the constants above."""
    return {
        "REFINE_TAPS": len(refine_taps()),
        "REFINE_SIGMA_PX": REFINE_SIGMA_PX,
        "EDGE_DW": EDGE_DW,
        "EDGE_SEPARATION": EDGE_SEPARATION,
        "MATCH_SIGMA": MATCH_SIGMA,
        "SNAP_MARGIN": SNAP_MARGIN,
        "LIGHT_GUIDE": math.sqrt(LIGHT_LINEAR / (1.0 + LIGHT_LINEAR)),
        "TEMPORAL_FRAMES": TEMPORAL_FRAMES,
        "TEMPORAL_COLOR_SIGMA": TEMPORAL_COLOR_SIGMA,
        "TEMPORAL_DW": TEMPORAL_DW,
    }


class _Target:
    """One texture and its framebuffer."""

    def __init__(self, ctx: moderngl.Context, size: Size, components: int) -> None:
        self.texture = ctx.texture(size, components, dtype="f4")
        self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.texture.repeat_x = self.texture.repeat_y = False
        self.fbo = ctx.framebuffer(color_attachments=[self.texture])

    def release(self) -> None:
        self.fbo.release()
        self.texture.release()


class _TargetPass(FullscreenPass):
    """A pass that draws into targets it keeps in a list (pyramid levels, a ring)."""

    outputs = ()
    components = 1

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]) -> None:
        super().__init__(ctx, defines)
        self.targets: list[_Target] = []

    def _targets(self, sizes: list[Size]) -> list[_Target]:
        if [t.texture.size for t in self.targets] != sizes:
            self.release_targets()
            self.targets = [_Target(self.ctx, s, self.components) for s in sizes]
        return self.targets

    def _draw(self, target: _Target, inputs: dict[str, moderngl.Texture]) -> moderngl.Texture:
        for unit, (name, tex) in enumerate(inputs.items()):
            tex.use(unit)
            self.set(name, unit)
        target.fbo.use()
        self.vao.render(moderngl.TRIANGLES, vertices=3)
        return target.texture

    def release_targets(self) -> None:
        for t in self.targets:
            t.release()
        self.targets = []


def pyramid_sizes(size: Size) -> list[Size]:
    """Sizes of the levels below `size`, each half (rounded up) of the last, down to 1x1."""
    sizes = []
    w, h = size
    while (w, h) != (1, 1):
        w, h = (w + 1) // 2, (h + 1) // 2
        sizes.append((w, h))
    return sizes


class DepthReduce(_TargetPass):
    """Pyramid levels below full res, R32F: the farthest valid inverse depth of each 2x2
    block of the level above (0: none valid).

    Compiled twice: the first level reads raw depth in metres (RAW_METRES), the
    others inverse depth.
    """

    shader = "depth_reduce.frag"

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object], raw: bool) -> None:
        super().__init__(ctx, {**defines, "RAW_METRES": int(raw)})

    def run(self, finer: moderngl.Texture, index: int) -> moderngl.Texture:
        return self._draw(self.targets[index], {"finer": finer})


class DepthFill(_TargetPass):
    """Filled levels: a texel without data takes its parent's value.

    Compiled twice. The coarser levels: R32F inverse depth in and out. Full res
    (RAW_METRES): raw depth in metres in, and out an RGBA32F guide for the refine
    pass, rgb = guide colour (shaders/depth_common.glsl), a = inverse depth.
    """

    shader = "depth_fill.frag"

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object], raw: bool) -> None:
        super().__init__(ctx, {**defines, "RAW_METRES": int(raw)})
        self.components = 4 if raw else 1

    def run(
        self,
        level: moderngl.Texture,
        parent: moderngl.Texture,
        index: int,
        color: moderngl.Texture | None = None,
    ) -> moderngl.Texture:
        inputs = {"level": level, "parent": parent}
        if color is not None:
            inputs["color"] = color
        return self._draw(self.targets[index], inputs)


class DepthRefine(_TargetPass):
    """A ring of full-res RGBA32F targets: rgb = guide colour, a = inverse depth.

    Frame k is refined into slot k mod (TEMPORAL_FRAMES + 1), so the temporal pass
    finds the earlier frames where they were refined.
    """

    shader = "depth_refine.frag"
    components = 4

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]) -> None:
        super().__init__(ctx, defines)
        self.uniform("refine_taps").write(refine_taps().tobytes())

    def run(self, guide: moderngl.Texture, slot: int) -> moderngl.Texture:
        ring = self._targets([guide.size] * (TEMPORAL_FRAMES + 1))
        return self._draw(ring[slot], {"guide": guide})


class DepthTemporal(FullscreenPass):
    """Full-res R32F: conditioned depth in metres, the chain's depth input."""

    shader = "depth_temporal.frag"
    outputs = ((1, "f4"),)
    filter = moderngl.NEAREST

    def run(self, current: moderngl.Texture, history: list[moderngl.Texture]) -> moderngl.Texture:
        """`history`: refined frames k-1, k-2, ... (at most TEMPORAL_FRAMES)."""
        inputs = {"current": current}
        for j, tex in enumerate(history[:TEMPORAL_FRAMES]):
            inputs[f"history{j}"] = tex
        self.draw(current.size, inputs, {"history_count": len(inputs) - 1})
        return self.output


class DepthConditioner:
    """Raw depth (metres, NaN or <= 0 = no data) and colour in, conditioned depth out."""

    def __init__(self, ctx: moderngl.Context) -> None:
        defines = conditioning_defines()
        self.ctx = ctx
        self.reduce_raw = DepthReduce(ctx, defines, raw=True)
        self.reduce = DepthReduce(ctx, defines, raw=False)
        self.fill_raw = DepthFill(ctx, defines, raw=True)
        self.fill = DepthFill(ctx, defines, raw=False)
        self.refine = DepthRefine(ctx, defines)
        self.temporal = DepthTemporal(ctx, defines)
        self.empty = ctx.texture((1, 1), 1, dtype="f4")  # the parent of a 1x1 frame: no data
        self.history: list[int] = []  # frame numbers held in the refine ring, newest first

    @property
    def passes(self) -> list[FullscreenPass]:
        return [self.reduce_raw, self.reduce, self.fill_raw, self.fill, self.refine, self.temporal]

    def filled(self, color: moderngl.Texture, depth: moderngl.Texture) -> moderngl.Texture:
        """The refine pass's guide: sqrt colour and inverse depth, every hole filled from
        the farthest data around it."""
        sizes = pyramid_sizes(depth.size)  # levels 1..n; level n is 1x1
        self.reduce_raw._targets(sizes[:1])
        self.reduce._targets(sizes[1:])
        self.fill_raw._targets([depth.size])
        self.fill._targets(sizes[:-1])
        levels = [depth]  # level 0: raw metres; below: inverse depth
        for i in range(len(sizes)):
            reduce = self.reduce_raw if i == 0 else self.reduce
            levels.append(reduce.run(levels[-1], 0 if i == 0 else i - 1))
        parent = levels[-1] if sizes else self.empty
        for i in range(len(sizes) - 1, 0, -1):  # levels n-1 .. 1
            parent = self.fill.run(levels[i], parent, i - 1)
        return self.fill_raw.run(depth, parent, 0, color)

    def run(
        self, color: moderngl.Texture, depth: moderngl.Texture, frame: int | None
    ) -> moderngl.Texture:
        """Condition frame number `frame` (R32F metres out). Earlier frames count only if
        they were frame - 1, frame - 2, ...: a jump (a seek, a loop) starts afresh.
        `frame` None: a picture of its own (a tile's window), with no earlier frames."""
        slot = (frame if frame is not None else 0) % (TEMPORAL_FRAMES + 1)
        current = self.refine.run(self.filled(color, depth), slot)
        if frame is None or not self.history or self.history[0] != frame - 1:
            self.history = []
        ring = self.refine.targets
        earlier = [ring[f % (TEMPORAL_FRAMES + 1)].texture for f in self.history]
        out = self.temporal.run(current, earlier)
        self.history = [frame, *self.history][:TEMPORAL_FRAMES] if frame is not None else []
        return out

    def release(self) -> None:
        for p in self.passes:
            p.release()
        self.empty.release()
