"""`synthetic:NAME`: a ground-truth scene whose subject moves in depth, as a clip.

Frame k shows the scene at t = k / fps, rendered by the ground-truth rasteriser
(pinhole RGB-D). The moving variants are built from the standard scenes
without changing them: `scene_at(name, t)` moves the primitives a `Motion`
names along the optical axis (dataclasses.replace of their centres), back and
forth between a near and a far depth at a set speed (a triangle wave that
starts at the near end). The clip keeps the clean depth of every frame for
tests (`clean_depth`) and can pass it through a sensor model (`sensor.py`):
`raw_depth(k)` is what the camera would deliver (noise, holes, offset edges,
Z16 steps, one frame late) and `read(k)` that depth filled the way file depth
is (`depth_for_color`). Everything is a pure function of k (and the seed).

The rasteriser needs a GL context. The clip renders on a private thread that
creates its own EGL context on first use and keeps it current there, so reading
from any thread never changes which context the caller has current (the
compositor's or a window's).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import moderngl
import numpy as np

from realtime.errors import InputError
from realtime.gl.context import create_offscreen_context, make_current
from realtime.groundtruth import SCENES, Scene, render_rgbd  # the one import of the rasteriser
from realtime.lens import Lens
from realtime.sources.depth import depth_for_color
from realtime.sources.live import Intrinsics
from realtime.sources.sensor import SensorModel, sensor_depth, sensor_model

DEFAULT_SIZE = (160, 90)  # width, height
DEFAULT_FPS = 30.0
SUPERSAMPLE = 2  # colour anti-aliasing of each frame (per-axis samples); depth is 1 sample
CACHE_FRAMES = 3  # rendered times kept (a sensor frame needs its own and the previous)


@dataclass(frozen=True)
class Motion:
    """Primitives of a scene that move together along z, back and forth."""

    indices: tuple[int, ...]  # positions in Scene.objects of the moving primitives
    near_m: float  # depth of the first one's centre at its nearest (at t = 0)
    far_m: float  # depth of the first one's centre at its farthest
    speed_m_s: float  # metres per second along the optical axis

    @property
    def period_s(self) -> float:
        """Time for near -> far -> near."""
        return 2.0 * (self.far_m - self.near_m) / self.speed_m_s

    def depth_at(self, t_s: float) -> float:
        """Centre depth of the first moving primitive at time t (a triangle wave)."""
        span = self.far_m - self.near_m
        travelled = (t_s * self.speed_m_s) % (2.0 * span)
        return self.near_m + (travelled if travelled <= span else 2.0 * span - travelled)


MOTIONS: dict[str, Motion] = {
    # the near sphere rolls from 1.5 m back to 3 m and returns, every 4 s
    "demo": Motion((0,), near_m=1.5, far_m=3.0, speed_m_s=0.75),
    # the checker card and its bead, together, 1.5 m -> 3 m before the wall at 8 m
    "portrait": Motion((0, 1), near_m=1.5, far_m=3.0, speed_m_s=0.75),
    # the blurred bar and ball approach the card at 3 m: 0.9 m -> 2 m
    "foreground": Motion((0, 1), near_m=0.9, far_m=2.0, speed_m_s=0.55),
}


@functools.cache
def _base_scene(name: str) -> Scene:
    return SCENES[name]()


def motion_of(name: str) -> Motion:
    """The motion of scene `name`; InputError naming the moving scenes otherwise."""
    motion = MOTIONS.get(name)
    if motion is None or name not in SCENES:
        known = ", ".join(sorted(n for n in MOTIONS if n in SCENES))
        raise InputError(f"unknown synthetic scene {name!r}; known: {known}")
    return motion


def scene_at(name: str, t_s: float) -> Scene:
    """Scene `name` at time t: its moving primitives shifted in depth (see MOTIONS)."""
    motion = motion_of(name)
    base = _base_scene(name)
    lead = base.objects[motion.indices[0]]
    dz = motion.depth_at(t_s) - lead.center[2]
    objects = list(base.objects)
    for i in motion.indices:
        x, y, z = objects[i].center
        objects[i] = dataclasses.replace(objects[i], center=(x, y, z + dz))
    return dataclasses.replace(base, objects=tuple(objects))


def subject_center_m(name: str, t_s: float) -> tuple[float, float, float]:
    """Camera-space centre (metres) of the lead moving primitive at time t."""
    return scene_at(name, t_s).objects[motion_of(name).indices[0]].center


def lens_intrinsics(lens: Lens, width: int, height: int) -> Intrinsics:
    """Pinhole intrinsics of the rasteriser's view: square pixels, centred principal point."""
    fx = lens.focal_length_mm / lens.sensor_width_mm * width
    return Intrinsics(fx, fx, (width - 1) / 2.0, (height - 1) / 2.0)


def project(point_m: tuple[float, float, float], intrinsics: Intrinsics) -> tuple[float, float]:
    """(column, row) of a camera-space point (y up) in the image (row 0 at the top)."""
    x, y, z = point_m
    fx, fy, cx, cy = intrinsics
    return cx + fx * x / z, cy - fy * y / z


class SyntheticClip:
    """A moving ground-truth scene as a clip; optionally through a depth-sensor model."""

    def __init__(
        self,
        name: str,
        size: tuple[int, int] = DEFAULT_SIZE,
        fps: float = DEFAULT_FPS,
        sensor_noise: str | None = None,
        seed: int = 0,
        duration_s: float | None = None,
        loop: bool = False,
    ) -> None:
        self.name = name
        self.motion = motion_of(name)
        self.width, self.height = size
        if self.width < 1 or self.height < 1:
            raise InputError(f"size must be positive, got {self.width}x{self.height}")
        if not fps > 0:
            raise InputError(f"fps must be positive, got {fps}")
        self.fps = fps
        self.sensor: SensorModel | None = None
        if sensor_noise is not None:
            self.sensor = sensor_model(sensor_noise)
        self.seed = seed
        duration = self.motion.period_s if duration_s is None else duration_s
        self.frame_count: int | None = max(1, round(duration * fps))  # default: one period
        self.loop = loop
        self.lens = _base_scene(name).lens
        self.intrinsics = lens_intrinsics(self.lens, self.width, self.height)
        self.label = f"synthetic:{name}"
        self._executor: ThreadPoolExecutor | None = None
        self._ctx: moderngl.Context | None = None  # owned by the executor's thread
        self._renders: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()  # reads may come from several threads
        self._read_cache: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None

    # --- indices and time ---

    def input_index(self, k: int) -> int:
        """Input frame that output frame k shows (k mod frame_count with `loop`)."""
        n = self.frame_count
        assert n is not None
        if self.loop:
            return k % n
        if not 0 <= k < n:
            raise InputError(f"frame {k} is past the end of {self.label} ({n} frames)")
        return k

    def time_s(self, k: int) -> float:
        """Scene time of output frame k."""
        return self.input_index(k) / self.fps

    def subject_depth_m(self, k: int) -> float:
        """The set motion: centre depth of the moving subject in frame k."""
        return self.motion.depth_at(self.time_s(k))

    def subject_center_m(self, k: int) -> tuple[float, float, float]:
        """Camera-space centre of the moving subject in frame k."""
        return subject_center_m(self.name, self.time_s(k))

    # --- rendering (on the private GL thread) ---

    def _render_here(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        if self._ctx is None:
            self._ctx = create_offscreen_context()
        make_current(self._ctx)
        scene = scene_at(self.name, t_s)
        return render_rgbd(self._ctx, scene, self.lens, self.width, self.height, SUPERSAMPLE)

    def _render(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(colour, clean depth) at scene time i / fps (i may be -1: before the clip)."""
        with self._lock:
            if i not in self._renders:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(1, thread_name_prefix="synthetic-gl")
                rendered = self._executor.submit(self._render_here, i / self.fps).result()
                if len(self._renders) >= CACHE_FRAMES:
                    del self._renders[next(iter(self._renders))]
                self._renders[i] = rendered
            return self._renders[i]

    # --- the clip ---

    def color(self, k: int) -> np.ndarray:
        """Linear colour of frame k (HxWx3 float32)."""
        return self._render(self.input_index(k))[0]

    def clean_depth(self, k: int) -> np.ndarray:
        """True z-depth (metres, HxW float32) at frame k's time, pixel for pixel with colour."""
        return self._render(self.input_index(k))[1]

    def raw_depth(self, k: int) -> np.ndarray:
        """The sensor's depth for frame k (NaN = no data); the clean depth without a sensor."""
        i = self.input_index(k)
        if self.sensor is None:
            return self._render(i)[1]
        lagged = self._render(i - self.sensor.lag_frames)[1]
        color = self._render(i)[0]
        return sensor_depth(self.sensor, lagged, color, i, self.seed, self.intrinsics.fx)

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(colour HxWx3 linear float32, depth HxW metres, all finite) of frame k."""
        i = self.input_index(k)
        cached = self._read_cache
        if cached is not None and cached[0] == i:
            return cached[1]
        color = self._render(i)[0]
        depth = self.raw_depth(i)
        if self.sensor is not None:
            depth = depth_for_color(depth, color, False, f"{self.label} (frame {i})", "")
        self._read_cache = (i, (color, depth))
        return color, depth

    def close(self) -> None:
        """Release the GL context and stop the render thread."""
        self._renders.clear()
        self._read_cache = None
        if self._executor is not None:
            self._executor.submit(self._release_here).result()
            self._executor.shutdown(wait=True)
            self._executor = None

    def _release_here(self) -> None:
        if self._ctx is not None:
            self._ctx.release()
            self._ctx = None


def open_synthetic(
    name: str,
    sensor_noise: str | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: float = DEFAULT_FPS,
    seed: int = 0,
    loop: bool = False,
) -> SyntheticClip:
    """The clip `synthetic:NAME` names (InputError for an unknown scene or sensor)."""
    return SyntheticClip(name, size, fps, sensor_noise, seed, loop=loop)


__all__ = [
    "MOTIONS",
    "Motion",
    "SyntheticClip",
    "lens_intrinsics",
    "motion_of",
    "open_synthetic",
    "project",
    "scene_at",
    "subject_center_m",
]
