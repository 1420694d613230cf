"""Depth conditioning on the GPU: holes filled from the far side, edges snapped to colour,
noise and flicker averaged out where nothing moves, no trail where something does, and
frame k the same wherever a clip render starts.

The sensor here is a small numpy model (1 % depth noise, holes, a depth edge two pixels
off the colour edge); realtime.sources.sensor models a RealSense camera for the
end-to-end measurements.
"""

from __future__ import annotations

import moderngl
import numpy as np
import pytest

from realtime.frameloop import FrameLoop
from realtime.lens import Lens
from realtime.passes.depth import TEMPORAL_FRAMES, DepthConditioner, pyramid_sizes
from realtime.pipeline import Compositor, read_rgb

H, W = 48, 64
EDGE = 32  # the colour edge: dark far wall left of it, bright near box right of it
FAR_M, NEAR_M = 4.0, 1.5
NOISE = 0.01  # relative depth noise of the test sensor


def colour() -> np.ndarray:
    c = np.full((H, W, 3), 0.2, np.float32)
    c[:, EDGE:] = 0.8
    return c


def sensor_depth(k: int, offset: int = 2) -> np.ndarray:
    """What the sensor reports at frame k: the edge `offset` px late, noise, two holes."""
    rng = np.random.default_rng(k)
    z = np.full((H, W), FAR_M, np.float32)
    z[:, EDGE + offset :] = NEAR_M
    z *= (1 + NOISE * rng.standard_normal(z.shape)).astype(np.float32)
    z[10:20, EDGE - 2 : EDGE + 2] = np.nan  # occlusion shadow at the edge
    z[0:3, 0:5] = 0.0  # a dark corner with no data
    return z


def condition(ctx: moderngl.Context, frames: list[np.ndarray]) -> list[np.ndarray]:
    conditioner = DepthConditioner(ctx)
    color = ctx.texture((W, H), 3, colour().tobytes(), dtype="f4")
    out = []
    for k, z in enumerate(frames):
        depth = ctx.texture((W, H), 1, z.tobytes(), dtype="f4")
        tex = conditioner.run(color, depth, k)
        out.append(np.frombuffer(tex.read(), np.float32).reshape(H, W).copy())
        depth.release()
    conditioner.release()
    color.release()
    return out


def test_pyramid_halves_down_to_one_texel() -> None:
    assert pyramid_sizes((64, 48)) == [(32, 24), (16, 12), (8, 6), (4, 3), (2, 2), (1, 1)]
    assert pyramid_sizes((5, 1)) == [(3, 1), (2, 1), (1, 1)]
    assert pyramid_sizes((1, 1)) == []


def test_holes_fill_from_the_far_side_and_edges_snap_to_colour(ctx: moderngl.Context) -> None:
    out = condition(ctx, [sensor_depth(0)])[0]
    assert np.isfinite(out).all()
    assert np.allclose(out[0:3, 0:5], FAR_M, rtol=3 * NOISE)  # the dark corner: the wall
    # The shadow straddles the colour edge: its dark half is wall, its bright half box.
    assert np.allclose(out[10:20, EDGE - 2 : EDGE], FAR_M, rtol=3 * NOISE)
    assert np.allclose(out[10:20, EDGE : EDGE + 2], NEAR_M, rtol=3 * NOISE)
    # Away from the hole the depth edge moved 2 px to the colour edge on every row.
    rows = [r for r in range(H) if not 8 <= r < 22]
    assert np.allclose(out[rows, EDGE - 3 : EDGE], FAR_M, rtol=3 * NOISE)
    assert np.allclose(out[rows, EDGE : EDGE + 3], NEAR_M, rtol=3 * NOISE)


def textured_disc(size: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A near disc and a 3 px post over a far wall, both textured (every pixel its own
    colour, as real surfaces are): colour, true depth, and the mask of the disc's edges
    that are away from the post."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    rng = np.random.default_rng(1)
    near = ((xx - 60) ** 2 + (yy - 60) ** 2 < 30**2) | ((xx > 20) & (xx < 24))
    wall = rng.uniform(0.05, 0.3, (size, size, 1)) * np.array([0.6, 0.7, 1.0])
    subject = rng.uniform(0.5, 0.9, (size, size, 1)) * np.array([1.0, 0.8, 0.5])
    color = np.where(near[..., None], subject, wall).astype(np.float32)
    depth = np.where(near, NEAR_M, FAR_M).astype(np.float32)
    away_from_post = np.ones((size, size), bool)
    away_from_post[:, 12:32] = False
    return color, depth, away_from_post


@pytest.mark.parametrize(
    ("shift", "share"), [((2, 0), 0.2), ((4, 0), 0.4), ((0, 4), 0.4), ((3, 3), 0.4), ((-4, 0), 0.4)]
)
def test_edges_several_pixels_off_move_to_the_colour_edges(
    ctx: moderngl.Context, shift: tuple[int, int], share: float
) -> None:
    """Depth whose content sits up to 4 px off the colour (misregistration, stereo edge
    fattening) on textured surfaces: the refine moves the disc's edges to the colour's.
    Pixels off by more than a tenth of the step, measured (of raw's): (2, 0) 32 of 212,
    (4, 0) 157 of 452, (0, 4) 112 of 464, (3, 3) 148 of 482, (-4, 0) 85 of 362; the
    refine before (a 2-step window counting look-alike colours) moved none of them on
    textured surfaces. The 3 px post keeps its depth where it overlaps its colour."""
    from realtime.sources.sensor import shift_image

    color, truth, away = textured_disc()
    size = truth.shape[0]
    conditioner = DepthConditioner(ctx)
    color_tex = ctx.texture((size, size), 3, color.tobytes(), dtype="f4")
    raw = shift_image(truth, *shift)
    depth_tex = ctx.texture((size, size), 1, raw.tobytes(), dtype="f4")
    out = np.frombuffer(conditioner.run(color_tex, depth_tex, 0).read(), np.float32)
    out = out.reshape(size, size)
    conditioner.release()
    color_tex.release()
    depth_tex.release()

    def off(z: np.ndarray) -> int:
        return int(((np.abs(1 / z - 1 / truth) > 0.1 * (1 / NEAR_M - 1 / FAR_M)) & away).sum())

    assert off(out) <= share * off(raw)
    if shift == (2, 0):  # the post overlaps its colour by 1 px: kept
        assert (np.abs(out[30:90, 21:24] - NEAR_M) < 0.1).mean() > 0.9


def test_static_noise_and_flicker_fall(ctx: moderngl.Context) -> None:
    frames = [sensor_depth(k) for k in range(TEMPORAL_FRAMES + 2)]
    out = condition(ctx, frames)
    wall = (slice(4, H - 4), slice(6, EDGE - 4))
    raw_std = float(np.std(frames[-1][wall] / FAR_M))
    assert float(np.std(out[-1][wall] / FAR_M)) < raw_std / 4  # measured about 1/8
    raw_flicker = np.abs(frames[-1][wall] - frames[-2][wall]).mean()
    flicker = np.abs(out[-1][wall] - out[-2][wall]).mean()
    assert flicker < raw_flicker / 3  # measured about 1/18


def test_a_moving_box_leaves_no_trail(ctx: moderngl.Context) -> None:
    """A near box moving 4 px a frame over the wall: where it was, the wall is back at once."""
    rng = np.random.default_rng(7)

    def frame(k: int) -> tuple[np.ndarray, np.ndarray]:
        x = 8 + 4 * k
        c = np.full((H, W, 3), 0.2, np.float32)
        c[16:32, x : x + 12] = 0.9
        z = np.full((H, W), FAR_M, np.float32)
        z[16:32, x : x + 12] = NEAR_M
        z *= (1 + NOISE * rng.standard_normal(z.shape)).astype(np.float32)
        return c, z

    conditioner = DepthConditioner(ctx)
    for k in range(TEMPORAL_FRAMES + 2):
        c, z = frame(k)
        color = ctx.texture((W, H), 3, c.tobytes(), dtype="f4")
        depth = ctx.texture((W, H), 1, z.tobytes(), dtype="f4")
        out = np.frombuffer(conditioner.run(color, depth, k).read(), np.float32).reshape(H, W)
        x = 8 + 4 * k
        assert np.allclose(out[18:30, x + 2 : x + 10], NEAR_M, rtol=3 * NOISE), k
        if k:
            vacated = out[18:30, x - 4 : x]  # the box's last position, wall again
            assert np.allclose(vacated, FAR_M, rtol=3 * NOISE), k
    conditioner.release()


def test_no_data_anywhere_still_renders_finite(ctx: moderngl.Context) -> None:
    out = condition(ctx, [np.full((H, W), np.nan, np.float32)])[0]
    assert not np.isnan(out).any()  # no depth anywhere: infinitely far, not NaN
    image = Compositor(ctx)
    loop = FrameLoop(image, _Clip([np.full((H, W), np.nan, np.float32)]), condition_depth=True)
    assert np.isfinite(read_rgb(loop.compose(0, Lens(focus_m=2.0)))).all()


class _Clip:
    """Frames of sensor depth over the test colour."""

    def __init__(self, depths: list[np.ndarray]) -> None:
        self.depths = depths

    def input_index(self, k: int) -> int:
        return k

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return colour(), self.depths[k]


@pytest.mark.parametrize("start", [1, TEMPORAL_FRAMES + 1])
def test_a_chunk_equals_the_same_frames_of_the_whole_render(
    ctx: moderngl.Context, start: int
) -> None:
    clip = _Clip([sensor_depth(k) for k in range(TEMPORAL_FRAMES + 4)])
    lens = Lens(focal_length_mm=50, f_number=1.4, focus_m=FAR_M)

    def render(frames: range) -> list[bytes]:
        loop = FrameLoop(Compositor(ctx), clip, condition_depth=True)
        return [read_rgb(loop.compose(k, lens)).tobytes() for k in frames]

    whole = render(range(len(clip.depths)))
    assert render(range(start, len(clip.depths))) == whole[start:]


# --- End to end: the synthetic scene through the RealSense sensor model ----------------------

SIZE = (320, 180)
FRAMES = 8  # a quarter second at 30 fps; the sphere moves 2.5 cm a frame
FOCUS_M = 1.78  # on the moving sphere at the last frame: its silhouette must stay sharp


def _binary_dilation(mask: np.ndarray, steps: int) -> np.ndarray:
    for _ in range(steps):
        p = np.pad(mask, 1)
        mask = p[1:-1, 1:-1] | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]
    return mask


def test_conditioned_sensor_depth_is_closer_to_clean_depth(ctx: moderngl.Context) -> None:
    """Raw sensor depth (with the CPU hole fill files get) against conditioned, both against
    the render from the scene's clean depth, on synthetic:demo with the RealSense model.

    Measured (320x180, frame 7): everywhere the conditioned error is 0.29 of the raw one
    (0.7 before the refine reached 5 px and weighed colours as gaussians); more than 4 px
    from depth edges 0.50 (0.35 before: the refine now also moves pixels 5 px out); what
    is left sits on silhouettes, most of it the sensor's one-frame lag, which no filter of
    depth alone undoes. Flicker of the static background: 0.10 of raw (0.17 before).
    """
    from realtime.sources.images import linear_to_srgb
    from realtime.sources.synthetic import SyntheticClip

    noisy = SyntheticClip("demo", SIZE, 30.0, "realsense")
    clean = SyntheticClip("demo", SIZE, 30.0, None)
    lens = noisy.lens.with_focus(FOCUS_M)

    class CleanDepth:
        def input_index(self, k: int) -> int:
            return k

        def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
            return clean.read(k)

    def run(source: object, conditioned: bool) -> list[np.ndarray]:
        loop = FrameLoop(Compositor(ctx), source, condition_depth=conditioned)  # type: ignore[arg-type]
        frames = [read_rgb(loop.compose(k, lens)) for k in range(FRAMES)]
        return [linear_to_srgb(np.clip(f, 0.0, 1.0)) for f in frames]

    try:
        raw, conditioned, reference = run(noisy, False), run(noisy, True), run(CleanDepth(), False)
        k = FRAMES - 1
        inverse = 1.0 / clean.clean_depth(k)
        steps = np.zeros(inverse.shape, bool)
        steps[:-1] |= np.abs(np.diff(inverse, axis=0)) > 0.05
        steps[:, :-1] |= np.abs(np.diff(inverse, axis=1)) > 0.05
        near_edges = _binary_dilation(steps, 4)

        def error(frames: list[np.ndarray], where: np.ndarray) -> float:
            return float(((frames[k] - reference[k]) ** 2).sum(axis=2)[where].sum())

        everywhere = np.ones(inverse.shape, bool)
        assert error(conditioned, everywhere) < 0.4 * error(raw, everywhere)
        assert error(conditioned, ~near_edges) < 0.6 * error(raw, ~near_edges)
        moved = np.abs(clean.clean_depth(k) - clean.clean_depth(k - 1)) > 1e-6
        static = ~_binary_dilation(moved | steps, 12)

        def flicker(frames: list[np.ndarray]) -> float:
            return float(np.abs(frames[k] - frames[k - 1])[static].mean())

        assert flicker(conditioned) < flicker(raw) / 5
    finally:
        noisy.close()
        clean.close()


def test_the_moving_subject_lags_at_most_the_sensor_frame(ctx: moderngl.Context) -> None:
    """The sphere's conditioned depth follows the sensor's (one frame late), with no trail:
    at every frame it is nearer the clean depth one frame back than two frames back."""
    from realtime.sources.synthetic import SyntheticClip, project

    noisy = SyntheticClip("demo", SIZE, 30.0, "realsense")
    try:
        loop = FrameLoop(Compositor(ctx), noisy, condition_depth=True)
        lens = noisy.lens.with_focus(FOCUS_M)
        for k in range(2, FRAMES):
            loop.compose(k, lens)
            assert loop.textures is not None
            depth = np.frombuffer(loop.textures[1].read(), np.float32).reshape(SIZE[1], SIZE[0])
            col, row = (int(v) for v in project(noisy.subject_center_m(k), noisy.intrinsics))
            centre = (slice(row - 2, row + 3), slice(col - 2, col + 3))
            here = float(np.median(depth[centre]))
            one_back = float(np.median(noisy.clean_depth(k - 1)[centre]))
            two_back = float(np.median(noisy.clean_depth(k - 2)[centre]))
            assert abs(here - one_back) < abs(here - two_back), k
    finally:
        noisy.close()


@pytest.mark.parametrize("factor", [1, 4])
def test_tiles_condition_like_the_whole_frame(ctx: moderngl.Context, factor: int) -> None:
    """A still rendered in tiles with conditioning equals the whole frame conditioned:
    each window is conditioned as a picture of its own, padded by the refine's reach (and
    the guided upsampling's, for depth at a quarter of the colour's size: factor 4)."""
    from realtime.frameloop import StillFrames
    from realtime.passes.depth import reach_px
    from realtime.passes.upsample import GuidedUpsampler
    from realtime.passes.upsample import reach_px as upsample_reach_px
    from realtime.sources.sensor import shift_image
    from realtime.tiling import TiledComposite, Tiling

    color, truth, _ = textured_disc(size=160)
    depth = shift_image(truth, 3, 1)[factor // 2 :: factor, factor // 2 :: factor].copy()
    lens = Lens(focal_length_mm=50.0, f_number=1.4, focus_m=NEAR_M, max_coc_px=24.0)
    comp = Compositor(ctx)
    loop = FrameLoop(comp, StillFrames(color, depth), condition_depth=True)
    whole = read_rgb(loop.compose(0, lens))
    upsampler = GuidedUpsampler(ctx) if factor > 1 else None
    reach = reach_px() + (upsample_reach_px(depth.shape[::-1], (160, 160)) if factor > 1 else 0)
    plan = Tiling(16384, 2**40, 48).plan(160, 160, lens.clamp_px, reach)
    assert plan.count > 1
    times = dict.fromkeys(("input", "gpu", "readback"), 0.0)
    conditioner = DepthConditioner(ctx)
    # the loop moved full-size depth back by its edges' offset (realtime.sources.edge_offset)
    # before conditioning; tiles condition the depth it holds
    held = loop.depth if factor == 1 else depth
    assert held is not None
    parts = TiledComposite(comp, color, held, lens, plan, times, upsampler, conditioner)
    assert np.abs(parts.assemble() - whole).max() < 1e-4
    conditioner.release()
    # and conditioning did change the picture: the edges moved
    assert (
        np.abs(read_rgb(FrameLoop(comp, StillFrames(color, depth)).compose(0, lens)) - whole).max()
        > 0.05
    )
