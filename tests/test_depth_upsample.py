"""Guided depth upsampling (realtime.passes.upsample): depth smaller than the colour, as
phones store it, brought to the colour's size with its edges where the colour's are.

Phone-like depth (realtime.sources.phone: 1/5 resolution area-averaged in inverse depth,
8-bit between the scene's nearest and farthest depth) against the accumulation-buffer
ground truth at 960x540, 256 samples. PSNR of the chain from that depth, upsampled each
way, and from the full-resolution depth (llvmpipe, Mesa 22.3.6; floors are the guided
figures less 0.5 dB; the issue's bar: within 1 dB of full-resolution depth):

    scene        full depth   guided   nearest   bilinear   floor
    portrait       41.73      41.65     37.15     37.98     41.1
    foreground     37.62      37.50     36.55     36.62     37.0
    floor          37.50      37.47     37.56     37.47     37.0
    demo           39.32      39.45     37.91     38.20     38.9
    fence          43.59      36.35     34.90     35.08     (35.8)

fence (posts 2-12 px wide, narrower than a depth texel of 5 px) is the limit: a post
covers no depth texel wholly, so no texel holds its depth; on the other scenes guided
upsampling is within 0.5 dB of full-resolution depth (the issue's goal).

With issue 22's chain (slight focus to 7 px, the nested gather kernel):

    scene        full depth   guided   nearest   bilinear   floor
    portrait       41.72      41.62     36.80     37.61     41.1
    foreground     37.82      37.71     36.79     36.58     37.0
    floor          38.71      38.73     38.86     38.72     37.0
    demo           39.45      39.64     37.78     38.16     38.9
    fence          43.53      35.24     34.18     34.26     34.7

fence's guided figure fell 1.1 dB because the chain now follows the depth it is given
more closely: brute force from the same upsampled depth gives 34.90 dB, and the chain
agrees with it to 47.30 dB (44.34 before); the depth, not the chain, is what is wrong
around the posts.
"""

from __future__ import annotations

import moderngl
import numpy as np
import pytest

from realtime.frameloop import FrameLoop, StillFrames
from realtime.groundtruth import SCENES, render_ground_truth, render_rgbd
from realtime.lens import Lens
from realtime.metrics import psnr
from realtime.passes.upsample import GuidedUpsampler, reach_px
from realtime.pipeline import Compositor, read_rgb
from realtime.sources.depth import (
    DepthConvention,
    depth_to_metres,
    resample_depth,
    resample_depth_bilinear,
)
from realtime.sources.phone import PHONE_FACTOR, phone_depth
from realtime.tiling import TiledComposite, Tiling

WIDTH, HEIGHT = 960, 540
SAMPLES = 256
GUIDED_FLOOR = {"portrait": 41.1, "foreground": 37.0, "floor": 37.0, "demo": 38.9, "fence": 34.7}
NEAR_M, FAR_M = 1.5, 4.0


def upsample(ctx: moderngl.Context, color: np.ndarray, small: np.ndarray) -> np.ndarray:
    h, w = color.shape[:2]
    color_tex = ctx.texture((w, h), 3, np.ascontiguousarray(color, np.float32), dtype="f4")
    small = np.ascontiguousarray(small, np.float32)
    depth_tex = ctx.texture(small.shape[::-1], 1, small, dtype="f4")
    upsampler = GuidedUpsampler(ctx)
    out = np.frombuffer(upsampler.run(color_tex, depth_tex).read(), np.float32).reshape(h, w)
    upsampler.release()
    color_tex.release()
    depth_tex.release()
    return out.copy()


def disc_picture(size: int = 80, radius: float = 23.0) -> tuple[np.ndarray, np.ndarray]:
    """A bright near disc on a dark far wall, colour and true depth, size x size px."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    inside = (xx - size * 0.45) ** 2 + (yy - size * 0.55) ** 2 < radius**2
    color = np.where(inside[..., None], 0.7, 0.05).astype(np.float32) * np.ones(3, np.float32)
    depth = np.where(inside, NEAR_M, FAR_M).astype(np.float32)
    return color, depth


def area_average(depth: np.ndarray, factor: int) -> np.ndarray:
    """Inverse depth averaged over factor x factor blocks: what a phone's depth holds."""
    h, w = depth.shape
    blocks = (1.0 / depth).reshape(h // factor, factor, w // factor, factor)
    return (1.0 / blocks.mean(axis=(1, 3))).astype(np.float32)


def test_silhouettes_follow_the_colour_without_steps(ctx: moderngl.Context) -> None:
    """A disc's depth at a fifth of its resolution, every edge texel a mix of disc and
    wall: guided upsampling puts the depth edge on the colour edge, both sides keep
    their depth (no mixed depths ramp across the silhouette) and flat regions stay flat.
    Measured: 32 pixels off by more than a tenth of the step (of 184 on the edge), where
    the disc's top grazes a row of texels; nearest leaves steps of up to 5 px on every
    side (633 pixels), bilinear ramps (961)."""
    color, truth = disc_picture()
    small = area_average(truth, PHONE_FACTOR)
    out = upsample(ctx, color, small)
    tenth = 0.1 * (1 / NEAR_M - 1 / FAR_M)
    assert (np.abs(1 / out - 1 / truth) > tenth).sum() <= 40
    nearest = resample_depth(small, *truth.shape)
    assert (np.abs(1 / nearest - 1 / truth) > tenth).sum() > 400
    np.testing.assert_allclose(out[5:15, 5:15], FAR_M, rtol=1e-5)  # flat wall: exact


def test_smooth_depth_stays_smooth(ctx: moderngl.Context) -> None:
    """A slanted plane (inverse depth linear across the frame, as a floor's): the guided
    result follows it like a bilinear interpolation does, without the colour's texture
    printed into the depth or steps at texel boundaries."""
    size = 80
    rng = np.random.default_rng(3)
    color = rng.uniform(0.05, 0.9, (size, size, 3)).astype(np.float32)  # busy texture
    w = np.linspace(1 / 1.2, 1 / 6.0, size, dtype=np.float64)[None, :] * np.ones((size, 1))
    truth = (1.0 / w).astype(np.float32)
    small = area_average(truth, 4)
    out = upsample(ctx, color, small)
    bilinear = resample_depth_bilinear(small, size, size)
    inner = (slice(8, -8), slice(8, -8))
    step = 1 / 1.2 - 1 / 6.0
    assert np.abs(1 / out - 1 / bilinear)[inner].max() < 0.02 * step
    assert np.abs(1 / out - 1 / truth)[inner].max() < 0.02 * step


def test_tiles_upsample_like_the_whole_frame(ctx: moderngl.Context) -> None:
    """A frame rendered in tiles from small depth equals the whole frame: each window
    upsamples its share of the whole depth map, padded by the upsampling's reach."""
    color, truth = disc_picture(size=160, radius=50.0)
    small = area_average(truth, PHONE_FACTOR)
    lens = Lens(focal_length_mm=50.0, f_number=1.4, focus_m=NEAR_M, max_coc_px=24.0)
    comp = Compositor(ctx)
    whole = read_rgb(FrameLoop(comp, StillFrames(color, small)).compose(0, lens))
    reach = reach_px(small.shape[::-1], (160, 160))
    plan = Tiling(16384, 2**40, 48).plan(160, 160, lens.clamp_px, reach)
    assert plan.count > 1 and plan.pad >= reach
    times = dict.fromkeys(("input", "gpu", "readback"), 0.0)
    upsampler = GuidedUpsampler(ctx)
    tiles = TiledComposite(comp, color, small, lens, plan, times, upsampler).assemble()
    assert np.abs(tiles - whole).max() < 1e-4
    upsampler.release()


@pytest.mark.parametrize("name", sorted(GUIDED_FLOOR))
def test_phone_depth_renders_close_to_full_depth(
    ctx: moderngl.Context, compositor: Compositor, name: str
) -> None:
    scene = SCENES[name]()
    color, depth = render_rgbd(ctx, scene, scene.lens, WIDTH, HEIGHT)
    truth = render_ground_truth(ctx, scene, scene.lens, WIDTH, HEIGHT, samples=SAMPLES)
    codes, near, far = phone_depth(depth)
    small = depth_to_metres(codes, DepthConvention.inverse(near, far))
    guided = psnr(compositor.render(color, upsample(ctx, color, small), scene.lens), truth)
    assert guided >= GUIDED_FLOOR[name]
    if name != "fence":  # the goal, on the scenes whose structures a texel can hold
        full = psnr(compositor.render(color, depth, scene.lens), truth)
        assert guided >= full - 0.5
    else:  # thin posts: still better than nearest
        nearest = resample_depth(small, HEIGHT, WIDTH)
        assert guided > psnr(compositor.render(color, nearest, scene.lens), truth) + 1.0
