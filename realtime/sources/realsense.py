"""Intel RealSense through pyrealsense2: recordings as clips, cameras as live sources.

pyrealsense2 is an optional extra (`pip install 'rackfocus[realsense]'`, plus
libusb-1.0-0 on Debian), imported inside the functions that use it.

Recordings (`RealSenseRecording`) play deterministically: the file is loaded as
a device (`context.load_device`), real-time playback is off (nothing dropped for
being late) and paused until both sensors stream into their frame queues (else
the sensor started second missed the first frames: 5 of 10 reads of a 60-frame
file here). Every frame is copied to a temporary file as it arrives, so frame k
is a pure function of k. Colour and depth pair by timestamp (within half a frame
period); a frame without its partner is skipped and counted in `skipped`. Depth
is registered to colour by `registration.align_depth_to_color` from the file's
intrinsics and extrinsics, not by `rs.align`: that takes a frameset, which in
file playback only `rs.syncer` (or a pipeline) makes, pairing by thread timing
(one 6-frame file gave 5 pairs in one run, none in two others here). Z16 x the
depth scale = metres, 0 = no data (NaN), then filled as file depth is; colour
(8-bit sRGB) is decoded to linear.

Cameras (`RealSenseCamera`): a `LiveSource` on `rs.pipeline` with `rs.align` to
colour; depth stays unfilled (NaN = no data) for the GPU conditioning.
`rsrecord.write_recording` records without a camera (software device + `rs.recorder`;
pyrealsense2 2.59 records .db3 only), for the tests.
"""

from __future__ import annotations

import tempfile
import threading
import time
from typing import IO, Any

import numpy as np

from realtime.errors import InputError
from realtime.sources.depth import depth_for_color
from realtime.sources.images import PathLike, check_file, decode_srgb_integers, one_line
from realtime.sources.live import Intrinsics, LiveFrame, LiveSource
from realtime.sources.registration import CameraModel, Extrinsics, align_depth_to_color
from realtime.sources.rsfilters import SdkFilters

RECORDING_SUFFIXES = (".db3", ".bag")
COLOR_FORMATS = {"rgb8": (3, False), "bgr8": (3, True), "rgba8": (4, False), "bgra8": (4, True)}
QUEUE_CAPACITY = 1 << 16  # frames a playback queue may hold before dropping (never reached)
PLAYBACK_IDLE_S = 0.2  # stopped and nothing new for this long: the recording is read
PLAYBACK_TIMEOUT_S = 10.0  # no frame at all for this long: give up
WAIT_MS = 100  # a camera capture waits at most this long for a frameset
DEPTH_UNIT_M = 0.001  # Z16 unit written by write_recording (the D4xx default)


def import_realsense() -> Any:
    """pyrealsense2, or a one-line InputError that names the extra and libusb."""
    try:
        import pyrealsense2 as rs
    except ImportError as e:
        raise InputError(
            "RealSense support needs pyrealsense2: pip install 'rackfocus[realsense]' "
            f"(and libusb-1.0-0 on Debian) ({one_line(e)})"
        ) from e
    return rs


def camera_model(i: Any) -> CameraModel:
    """A CameraModel from an rs.intrinsics."""
    coeffs = tuple(float(c) for c in i.coeffs)
    return CameraModel(i.width, i.height, i.fx, i.fy, i.ppx, i.ppy, i.model.name, coeffs)


def color_layout(fmt: str, label: str) -> tuple[int, bool]:
    """(channels, stored as BGR) of a colour stream format; InputError if unsupported."""
    if fmt not in COLOR_FORMATS:
        known = ", ".join(COLOR_FORMATS)
        raise InputError(f"{label}: colour stream format {fmt} is not supported (use {known})")
    return COLOR_FORMATS[fmt]


def color_to_rgb8(data: np.ndarray, fmt: str, label: str) -> np.ndarray:
    """HxWx3 uint8 RGB from a colour frame's samples in `fmt` (rgb8, bgr8, rgba8, bgra8)."""
    channels, bgr = color_layout(fmt, label)
    rgb = data.reshape(data.shape[0], data.shape[1], channels)[..., :3]
    return np.ascontiguousarray(rgb[..., ::-1] if bgr else rgb)


def z16_to_metres(z16: np.ndarray, scale: float) -> np.ndarray:
    """Z16 samples x depth scale = metres (float32); 0 = no data becomes NaN."""
    metres = z16.astype(np.float32) * np.float32(scale)
    metres[z16 == 0] = np.nan
    return metres


# --- writing recordings (software device + recorder) ------------------------------------------


class _Frames:
    """One stream's frames, copied to a temporary file as they arrive."""

    def __init__(self, shape: tuple[int, ...], dtype: str) -> None:
        self.shape, self.dtype = shape, np.dtype(dtype)
        self.nbytes = int(np.prod(shape)) * self.dtype.itemsize
        self.file: IO[bytes] = tempfile.TemporaryFile()
        self.timestamps_ms: list[float] = []
        self.lock = threading.Lock()

    def append(self, data: np.ndarray, timestamp_ms: float) -> None:
        with self.lock:
            self.file.seek(len(self.timestamps_ms) * self.nbytes)
            self.file.write(np.ascontiguousarray(data, dtype=self.dtype).tobytes())
            self.timestamps_ms.append(timestamp_ms)

    def read(self, i: int) -> np.ndarray:
        with self.lock:  # seek + read: one reader at a time
            self.file.seek(i * self.nbytes)
            data = self.file.read(self.nbytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(self.shape)


def pair_by_timestamp(
    color_ms: list[float], depth_ms: list[float], tolerance_ms: float
) -> tuple[list[tuple[int, int]], int]:
    """(colour index, depth index) pairs within `tolerance_ms`, and how many frames were unpaired.

    Both lists in time order; a greedy merge, so each frame pairs at most once.
    """
    pairs: list[tuple[int, int]] = []
    i = j = skipped = 0
    while i < len(color_ms) and j < len(depth_ms):
        dt = color_ms[i] - depth_ms[j]
        if abs(dt) <= tolerance_ms:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif dt < 0:
            i, skipped = i + 1, skipped + 1  # a colour frame without depth
        else:
            j, skipped = j + 1, skipped + 1  # a depth frame without colour
    return pairs, skipped + (len(color_ms) - i) + (len(depth_ms) - j)


class RealSenseRecording:
    """A RealSense .db3 / .bag recording as a clip (see the module docstring)."""

    def __init__(self, path: PathLike, loop: bool = False, sdk_filters: bool = False) -> None:
        rs = import_realsense()
        self.filters = SdkFilters(rs) if sdk_filters else None  # --rs-filters
        self.path = check_file(path)
        self.label = str(self.path)
        self.loop = loop
        if self.path.suffix.lower() not in RECORDING_SUFFIXES:
            raise InputError(f"{self.path}: a RealSense recording is a .db3 or .bag file")
        context = rs.context()
        try:
            playback = context.load_device(str(self.path)).as_playback()
        except RuntimeError as e:
            raise InputError(
                f"{self.path}: cannot play as a RealSense recording: {one_line(e)}"
            ) from e
        try:
            self._read_all(rs, playback)
        finally:
            context.unload_device(str(self.path))
        self._cache: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None

    def _streams(self, rs: Any, playback: Any) -> list[tuple[Any, Any]]:
        """(sensor, profile) of the depth stream and of the colour stream."""
        found: dict[Any, tuple[Any, Any]] = {}
        for sensor in playback.query_sensors():
            for profile in sensor.get_stream_profiles():
                found.setdefault(profile.stream_type(), (sensor, profile.as_video_stream_profile()))
        for kind, name in ((rs.stream.depth, "depth"), (rs.stream.color, "colour")):
            if kind not in found:
                raise InputError(f"{self.path}: the recording has no {name} stream")
        return [found[rs.stream.depth], found[rs.stream.color]]

    def _read_all(self, rs: Any, playback: Any) -> None:
        (depth_sensor, depth_profile), (color_sensor, color_profile) = self._streams(rs, playback)
        self.depth_scale = float(depth_sensor.as_depth_sensor().get_depth_scale())
        self.color_format = color_profile.format().name
        self.fps = float(color_profile.fps())
        self.depth_camera = camera_model(depth_profile.get_intrinsics())
        self.color_camera = camera_model(color_profile.get_intrinsics())
        extr = depth_profile.get_extrinsics_to(color_profile)
        self.depth_to_color = Extrinsics(tuple(extr.rotation), tuple(extr.translation))
        c = self.color_camera
        self.intrinsics = Intrinsics(c.fx, c.fy, c.ppx, c.ppy)
        channels = color_layout(self.color_format, self.label)[0]
        depth = _Frames((self.depth_camera.height, self.depth_camera.width), "<u2")
        color = _Frames((c.height, c.width, channels), "u1")
        self._depth, self._color = depth, color
        playback.set_real_time(False)
        playback.pause()  # until both sensors stream: else the second misses the first frames
        queues = [rs.frame_queue(QUEUE_CAPACITY, keep_frames=True) for _ in range(2)]
        sensors = ((depth_sensor, depth_profile), (color_sensor, color_profile))
        try:
            for (sensor, profile), queue in zip(sensors, queues, strict=True):
                sensor.open(profile)
                sensor.start(queue)
            playback.resume()
            last_s = time.monotonic()
            while True:
                got = False
                for queue, frames in zip(queues, (depth, color), strict=True):
                    ok, frame = queue.try_wait_for_frame(10)
                    if ok and frames is depth and self.filters is not None:
                        frame = self.filters(frame)
                    if ok:
                        frames.append(np.asanyarray(frame.get_data()), frame.get_timestamp())
                        got, last_s = True, time.monotonic()
                idle = time.monotonic() - last_s
                stopped = playback.current_status() == rs.playback_status.stopped
                received = depth.timestamps_ms or color.timestamps_ms
                if not got and stopped and received and idle > PLAYBACK_IDLE_S:
                    break
                if idle > PLAYBACK_TIMEOUT_S:
                    raise InputError(f"{self.path}: playback gave no frames for {idle:.0f} s")
        finally:
            for sensor, _ in sensors:
                try:
                    sensor.stop()
                    sensor.close()
                except RuntimeError:  # never started
                    pass
        tolerance = 500.0 / self.fps if self.fps > 0 else 1.0
        order_c = np.argsort(color.timestamps_ms, kind="stable")
        order_d = np.argsort(depth.timestamps_ms, kind="stable")
        pairs, self.skipped = pair_by_timestamp(
            [color.timestamps_ms[i] for i in order_c],
            [depth.timestamps_ms[i] for i in order_d],
            tolerance,
        )
        self._pairs = [(int(order_c[i]), int(order_d[j])) for i, j in pairs]
        if not self._pairs:
            raise InputError(f"{self.path}: no colour frame has a depth frame at its time")
        self.frame_count: int | None = len(self._pairs)

    def input_index(self, k: int) -> int:
        """Recorded pair that output frame k shows."""
        n = len(self._pairs)
        if self.loop:
            return k % n
        if not 0 <= k < n:
            raise InputError(f"frame {k} is past the end of {self.label} ({n} frames)")
        return k

    def timestamp_s(self, k: int) -> float:
        """Device time of frame k's colour, seconds."""
        return self._color.timestamps_ms[self._pairs[self.input_index(k)][0]] / 1000.0

    def color_rgb8(self, k: int) -> np.ndarray:
        """The recorded colour of frame k, HxWx3 uint8 sRGB."""
        data = self._color.read(self._pairs[self.input_index(k)][0])
        return color_to_rgb8(data, self.color_format, self.label)

    def raw_depth(self, k: int) -> np.ndarray:
        """Depth of frame k registered to colour, metres, NaN = no data (unfilled)."""
        z16 = self._depth.read(self._pairs[self.input_index(k)][1])
        metres = z16_to_metres(z16, self.depth_scale)
        return align_depth_to_color(
            metres, self.depth_camera, self.color_camera, self.depth_to_color
        )

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(colour HxWx3 linear float32, depth HxW metres, all finite) of frame k."""
        i = self.input_index(k)
        cached = self._cache
        if cached is not None and cached[0] == i:
            return cached[1]
        color = np.ascontiguousarray(decode_srgb_integers(self.color_rgb8(i)))
        depth = depth_for_color(self.raw_depth(i), color, False, f"{self.label} (frame {i})", "")
        self._cache = (i, (color, depth))
        return color, depth

    def close(self) -> None:
        """Delete the temporary copies of the frames."""
        self._cache = None
        self._color.file.close()
        self._depth.file.close()


# --- cameras as live sources ------------------------------------------------------------------


def connected_serials() -> list[str]:
    """Serial numbers of the RealSense devices plugged in now."""
    rs = import_realsense()
    return [d.get_info(rs.camera_info.serial_number) for d in rs.context().query_devices()]


class RealSenseCamera(LiveSource):
    """A RealSense camera: colour and depth aligned to colour, newest frame only.

    Raises InputError at once when no camera (or not the one named) is plugged in;
    afterwards faults (unplugging included) show in `status` and are retried.
    """

    def __init__(
        self,
        serial: str | None = None,
        size: tuple[int, int] = (848, 480),
        fps: int = 30,
        sdk_filters: bool = False,
    ) -> None:
        self.filters = SdkFilters(import_realsense()) if sdk_filters else None
        serials = connected_serials()
        if not serials:
            raise InputError("no RealSense camera found")
        if serial is not None and serial not in serials:
            raise InputError(f"no RealSense camera {serial} (found {', '.join(serials)})")
        super().__init__(f"realsense {serial or serials[0]}", size=size)
        self.serial = serial or serials[0]
        self.fps = fps
        self.intrinsics: Intrinsics | None = None
        self._pipeline: Any = None
        self._align: Any = None
        self._depth_scale = DEPTH_UNIT_M

    def _open(self) -> None:
        rs = import_realsense()
        if self.serial not in connected_serials():
            raise InputError(f"camera unplugged: RealSense {self.serial}")
        assert self.size is not None
        width, height = self.size
        config = rs.config()
        config.enable_device(self.serial)
        config.enable_stream(rs.stream.depth, width, height, rs.format.z16, self.fps)
        config.enable_stream(rs.stream.color, width, height, rs.format.rgb8, self.fps)
        pipeline = rs.pipeline()
        profile = pipeline.start(config)
        self._pipeline = pipeline
        self._depth_scale = profile.get_device().first_depth_sensor().get_depth_scale()
        self._align = rs.align(rs.stream.color)
        color = profile.get_stream(rs.stream.color).as_video_stream_profile().get_intrinsics()
        self.intrinsics = Intrinsics(color.fx, color.fy, color.ppx, color.ppy)

    def _capture(self) -> LiveFrame | None:
        ok, frames = self._pipeline.try_wait_for_frames(WAIT_MS)
        if not ok:
            if self.status.startswith("stalled") and self.serial not in connected_serials():
                raise InputError(f"camera unplugged: RealSense {self.serial}")
            return None
        aligned = self._align.process(frames)
        depth, color = aligned.get_depth_frame(), aligned.get_color_frame()
        if not depth or not color:
            return None
        depth = self.filters(depth) if self.filters is not None else depth
        rgb = np.asanyarray(color.get_data())
        return LiveFrame(
            np.ascontiguousarray(decode_srgb_integers(rgb)),
            z16_to_metres(np.asanyarray(depth.get_data()), self._depth_scale),
            time.monotonic(),
            self.intrinsics,
        )

    def _release(self) -> None:
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            pipeline.stop()


__all__ = [
    "RealSenseCamera",
    "RealSenseRecording",
    "camera_model",
    "color_to_rgb8",
    "connected_serials",
    "import_realsense",
    "pair_by_timestamp",
    "z16_to_metres",
]
