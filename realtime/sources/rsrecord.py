"""Writing RealSense recordings from frames in memory: a software device and the SDK's recorder.

The tests (and anyone making a demo recording) turn synthetic frames into a real
.db3 file that `RealSenseRecording` reads back through the SDK (pyrealsense2 2.59
records .db3, not .bag).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.sources.images import PathLike
from realtime.sources.live import Intrinsics
from realtime.sources.realsense import DEPTH_UNIT_M, import_realsense
from realtime.sources.registration import Extrinsics


def write_recording(
    path: PathLike,
    frames: Iterable[tuple[np.ndarray | None, np.ndarray | None]],
    fps: float,
    intrinsics: Intrinsics,
    depth_unit_m: float = DEPTH_UNIT_M,
) -> int:
    """Record (colour HxWx3 uint8 sRGB, depth HxW uint16 Z16) frames to a .db3 file.

    Either of a pair may be None: that stream then has no frame at that time (a
    recording with gaps, as a real one may have). Both cameras share `intrinsics`,
    with identity extrinsics between them. Returns the number of pairs written.
    """
    rs = import_realsense()
    target = Path(path)
    if target.suffix.lower() != ".db3":
        raise InputError(f"{target}: pyrealsense2 records .db3 files only")
    target.unlink(missing_ok=True)
    pending = iter(frames)
    first = next(pending, None)
    if first is None:
        raise InputError(f"{target}: no frames to record")
    height, width = next(a.shape[:2] for a in first if a is not None)
    rs_intr = rs.intrinsics()
    rs_intr.width, rs_intr.height = width, height
    rs_intr.fx, rs_intr.fy, rs_intr.ppx, rs_intr.ppy = intrinsics
    rs_intr.model, rs_intr.coeffs = rs.distortion.none, [0.0] * 5
    device = rs.software_device()
    streams = []  # (sensor, profile, bytes per pixel, dtype)
    for uid, (name, kind, fmt, bpp, dtype) in enumerate(
        (
            ("Depth", rs.stream.depth, rs.format.z16, 2, np.uint16),
            ("Color", rs.stream.color, rs.format.rgb8, 3, np.uint8),
        )
    ):
        sensor = device.add_sensor(name)
        stream = rs.video_stream()
        stream.type, stream.index, stream.uid = kind, 0, uid  # distinct uids per stream
        stream.width, stream.height, stream.bpp, stream.fmt = width, height, bpp, fmt
        stream.fps, stream.intrinsics = round(fps), rs_intr
        streams.append((sensor, sensor.add_video_stream(stream), bpp, dtype))
    (depth_sensor, depth_profile, _, _), (_, color_profile, _, _) = streams
    depth_sensor.add_read_only_option(rs.option.depth_units, depth_unit_m)
    identity = rs.extrinsics()
    identity.rotation, identity.translation = list(Extrinsics().rotation), [0.0, 0.0, 0.0]
    depth_profile.register_extrinsics_to(color_profile, identity)  # so align can relate them

    recorder = rs.recorder(str(target), device)  # before the sensors open
    for sensor, profile, _, _ in streams:
        sensor.open(profile)
        sensor.start(rs.frame_queue())  # the sensors need a consumer to start
    count = 0
    try:
        for k, pair in enumerate(itertools.chain([first], pending)):
            for (sensor, profile, bpp, dtype), array in zip(streams, pair[::-1], strict=True):
                if array is None:
                    continue
                if array.shape[:2] != (height, width) or array.dtype != dtype:
                    raise InputError(
                        f"{target}: frame {k} is {array.dtype} {array.shape}, not {width}x{height} "
                        f"{np.dtype(dtype)}"
                    )
                frame = rs.software_video_frame()  # a fresh one for every frame
                frame.pixels = np.ascontiguousarray(array)
                frame.bpp, frame.stride = bpp, width * bpp
                frame.timestamp = k * 1000.0 / fps  # milliseconds
                frame.domain = rs.timestamp_domain.hardware_clock
                frame.frame_number = k
                frame.profile = profile.as_video_stream_profile()
                if bpp == 2:
                    frame.depth_units = depth_unit_m
                sensor.on_video_frame(frame)
            count += pair[0] is not None and pair[1] is not None
    finally:
        for sensor, _, _, _ in streams:
            sensor.stop()
            sensor.close()
        del recorder  # the recorder writes the file's index when it is destroyed
    return count


# --- recordings as clips ----------------------------------------------------------------------


__all__ = ["write_recording"]
