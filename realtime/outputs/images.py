"""Write a linear-light RGB image, atomically, in the format its extension names.

.png: 8-bit sRGB (clipped to 0..1, rounded). .exr: float32 linear RGB (OpenEXR,
ZIP). .tif/.tiff: float32 linear RGB (tifffile). .npy: float32 linear, unclipped.
`write_png_codes` writes display codes as they are (a window's screenshot).

The file is written under a temporary name in the same folder and moved into
place with os.replace, so an interrupted or failed write leaves either the old
file or the new one, never half of one, and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.sources.images import PathLike, linear_to_srgb, one_line

PNG_MAX = 255  # 8-bit code of linear 1.0


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


NEW_FILE_MODE = 0o666 & ~_current_umask()  # what open() would give a new file (read at import)


def _write_png(path: str, rgb: np.ndarray) -> None:
    import imageio.v3 as iio

    codes = np.rint(linear_to_srgb(np.clip(rgb, 0.0, 1.0)) * PNG_MAX).astype(np.uint8)
    iio.imwrite(path, codes, plugin="pillow", extension=".png")


def _write_exr(path: str, rgb: np.ndarray) -> None:
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"RGB": rgb}) as f:
        f.write(path)


def _write_tiff(path: str, rgb: np.ndarray) -> None:
    import tifffile

    tifffile.imwrite(path, rgb, photometric="rgb")


def _write_npy(path: str, rgb: np.ndarray) -> None:
    with open(path, "wb") as f:  # a file object: np.save would append .npy to a name
        np.save(f, rgb, allow_pickle=False)


WRITERS: dict[str, Callable[[str, np.ndarray], None]] = {
    ".png": _write_png,
    ".exr": _write_exr,
    ".tif": _write_tiff,
    ".tiff": _write_tiff,
    ".npy": _write_npy,
}


IMAGE_CODECS = {  # cue-file codec names of image sequences -> the extensions they write
    "png": (".png",),
    "exr": (".exr",),
    "tif": (".tif", ".tiff"),
}


def write_image(path: PathLike, linear_rgb: np.ndarray) -> None:
    """Write HxWx3 linear RGB to `path`, format by extension, atomically.

    Non-finite values are never written: they become 0, with a warning, since
    they mean a bug upstream but should not cost the user a finished render.
    Unknown extensions and folders that are missing or not writable raise
    InputError naming the file.
    """
    p = Path(path)
    writer = WRITERS.get(p.suffix.lower())
    if writer is None:
        raise InputError(
            f"{p}: unknown output type {p.suffix or '(none)'!r}; use one of {', '.join(WRITERS)}"
        )
    rgb = np.asarray(linear_rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError(f"write_image needs an HxWx3 array, got shape {rgb.shape}")
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    bad = ~np.isfinite(rgb)
    if bad.any():
        warnings.warn(
            f"{p}: {int(bad.any(axis=2).sum())} pixels were NaN or infinite; written as 0",
            RuntimeWarning,
            stacklevel=2,
        )
        rgb = np.where(bad, np.float32(0), rgb)

    _write_atomically(p, lambda tmp: writer(tmp, rgb))


def write_png_codes(path: PathLike, codes: np.ndarray) -> None:
    """Write HxWx3 uint8 display codes (already sRGB) as a PNG, atomically."""
    import imageio.v3 as iio

    p = Path(path)
    if p.suffix.lower() != ".png":
        raise InputError(f"{p}: must be a .png file")
    _write_atomically(p, lambda tmp: iio.imwrite(tmp, codes, plugin="pillow", extension=".png"))


def write_tiff_codes(path: PathLike, codes: np.ndarray) -> None:
    """Write HxWx3 integer codes (uint8 or uint16) as they are, losslessly (zlib with the
    horizontal predictor), atomically: intermediate frames that must come back exact."""
    import tifffile

    def write(tmp: str) -> None:
        tifffile.imwrite(tmp, codes, photometric="rgb", compression="zlib", predictor=True)

    _write_atomically(Path(path), write)


def _write_atomically(p: Path, write: Callable[[str], None]) -> None:
    """Run `write(tmp)` on a temporary file in p's folder, then rename it to `p`.

    Folders that are missing or not writable, and I/O failures, raise InputError
    naming the file; the temporary file never survives.
    """
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{p}: cannot write: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=".tmp" + p.suffix)
    except OSError as e:
        raise InputError(f"{p}: cannot write into folder {folder}: {one_line(e)}") from e
    os.close(fd)
    try:
        write(tmp)
        mode = p.stat().st_mode & 0o7777 if p.exists() else NEW_FILE_MODE
        os.chmod(tmp, mode)  # mkstemp makes 0600; give the file the mode a plain write would
        os.replace(tmp, p)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError | RuntimeError):  # OpenEXR reports I/O failures as RuntimeError
            raise InputError(f"{p}: cannot write: {one_line(e)}") from e
        raise


__all__ = [
    "IMAGE_CODECS",
    "NEW_FILE_MODE",
    "WRITERS",
    "write_image",
    "write_png_codes",
    "write_tiff_codes",
]
