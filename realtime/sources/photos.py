"""Photos that carry their own depth: one reader per container, found by content.

    HEIC/HEIF   the primary image and its depth auxiliary image (pillow-heif), e.g.
                an iPhone portrait: 8-bit disparity with its range in the depth
                representation info (realtime.sources.photos.heif_depth_to_metres)
    JPEG        Android Dynamic Depth or Google GDepth XMP (realtime.sources.jpegdepth)
    OpenEXR     colour (R, G, B or <layer>.Combined.R/G/B) and depth in metres (Z,
                depth.Z, <layer>.Depth.Z), in one part or in separate parts

`read_photo` returns the colour (linear float), the depth in metres at the depth
image's own size (never resampled here: a phone's depth is a fraction of the
colour's size, and making it fit is the conditioning's job), a sentence saying
how the stored values became metres, and what the EXIF says about the lens.
EXIF orientation is applied to colour and depth alike, so both come back upright.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from realtime.errors import InputError
from realtime.sources.images import (
    PathLike,
    check_file,
    decode_srgb_integers,
    one_line,
    open_heif_primary,
)
from realtime.sources.jpegdepth import jpeg_names_depth, read_jpeg_depth

JPEG_MAGIC = b"\xff\xd8\xff"
EXR_MAGIC = b"\x76\x2f\x31\x01"
HEIF_BRANDS = (  # ISO BMFF major/compatible brands of HEIF still images (and AVIF)
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"
)  # fmt: skip
HEAD_BYTES = 64  # bytes read to tell the containers apart

# EXIF tags (Exif 2.32): the orientation in IFD0, the rest in the Exif sub-IFD.
EXIF_ORIENTATION = 0x0112
EXIF_MAKE = 0x010F
EXIF_MODEL = 0x0110
EXIF_IFD = 0x8769
EXIF_FNUMBER = 0x829D
EXIF_FOCAL_LENGTH = 0x920A
EXIF_FOCAL_LENGTH_35MM = 0xA405
EXIF_LENS_MODEL = 0xA434

# HEIF depth representation types (ISO/IEC 23008-12 via H.265's depth representation
# SEI, as libheif numbers them).
HEIF_INVERSE_Z, HEIF_DISPARITY, HEIF_Z, HEIF_NONUNIFORM_DISPARITY = 0, 1, 2, 3

# EXR depth channel names, first match wins (then any <layer>.Depth.Z; see _exr_pick).
EXR_DEPTH_NAMES = ("Z", "depth.Z", "Depth.Z", "depth", "Depth")


@dataclass(frozen=True)
class PhotoLens:
    """What a photo's EXIF says about the lens that took it; None where it says nothing."""

    focal_length_mm: float | None  # the lens's real focal length (EXIF FocalLength)
    focal_length_35mm_mm: float | None  # its 35 mm-film equivalent (FocalLengthIn35mmFilm)
    f_number: float | None  # the real aperture (EXIF FNumber; not a full-frame equivalent)
    lens_model: str | None  # EXIF LensModel, e.g. "iPhone 13 Pro back dual wide camera ..."
    camera: str | None  # EXIF Make and Model, e.g. "Apple iPhone 13 Pro"


@dataclass(frozen=True)
class PhotoDepth:
    """A photo's colour and the depth stored inside it, both upright."""

    color: np.ndarray  # HxWx3 float32 linear light (sRGB decoded), EXIF orientation applied
    depth_m: np.ndarray  # hxw float32 metres at the depth image's own size, NaN where invalid
    convention: str  # how stored values became metres, e.g. "disparity 1.5..4.4 /m (HEIF ...)"
    lens: PhotoLens | None  # what the EXIF says about the lens; None without EXIF
    orientation: int  # the EXIF orientation the file recorded (1 = as stored), now applied
    container: str  # "HEIF", "Dynamic Depth", "GDepth" or "OpenEXR"


# --- finding the container --------------------------------------------------------------


def sniff(path: PathLike) -> str | None:
    """'heif', 'jpeg' or 'exr' by the file's first bytes; None for anything else."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head.startswith(EXR_MAGIC):
        return "exr"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        (size,) = np.frombuffer(head[:4], dtype=">u4")
        brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(int(size), len(head)), 4)]
        if any(b in HEIF_BRANDS for b in brands):
            return "heif"
    return None


def has_embedded_depth(path: PathLike) -> bool:
    """Whether the file is a photo whose container names a depth image (a cheap look at
    its metadata; no pixels are decoded). False for missing or unreadable files."""
    try:
        kind = sniff(path)
        if kind == "heif":
            return bool(_open_heif(Path(path)).info.get("depth_images"))
        if kind == "jpeg":
            return jpeg_names_depth(Path(path).read_bytes())
        if kind == "exr":
            import OpenEXR

            with OpenEXR.File(str(path), header_only=True) as f:
                names = [[c.name for c in part.header["channels"]] for part in f.parts]
            return _exr_pick(names) is not None
    except Exception:  # a cheap check: the reader reports what is wrong
        return False
    return False


def read_photo(path: PathLike) -> PhotoDepth:
    """The colour and depth a photo carries; InputError (one line) when it carries none."""
    p = check_file(path)
    kind = sniff(p)
    if kind == "heif":
        return _read_heif(p)
    if kind == "jpeg":
        return _read_jpeg(p)
    if kind == "exr":
        return _read_exr(p)
    raise InputError(
        f"{p}: carries no depth (not a HEIC, Dynamic Depth/GDepth JPEG or EXR with depth); "
        "pass --depth"
    )


# --- orientation and EXIF ---------------------------------------------------------------


def orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Rows and columns of `a` (HxW or HxWxC) as an EXIF `orientation` says to show them."""
    if orientation == 2:
        a = a[:, ::-1]
    elif orientation == 3:
        a = a[::-1, ::-1]
    elif orientation == 4:
        a = a[::-1]
    elif orientation == 5:
        a = a.swapaxes(0, 1)
    elif orientation == 6:
        a = a.swapaxes(0, 1)[:, ::-1]  # 90 degrees clockwise
    elif orientation == 7:
        a = a.swapaxes(0, 1)[::-1, ::-1]
    elif orientation == 8:
        a = a.swapaxes(0, 1)[::-1]  # 90 degrees counter-clockwise
    return np.ascontiguousarray(a)


def _ratio(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if np.isfinite(number) and number > 0 else None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = " ".join(str(value).replace("\x00", " ").split()) if value is not None else ""
    return text or None


def exif_facts(exif_bytes: bytes | None) -> tuple[PhotoLens | None, int]:
    """(lens, orientation) from raw EXIF (with or without its "Exif\\0\\0" prefix)."""
    if not exif_bytes:
        return None, 1
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(exif_bytes)
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:  # unreadable EXIF says nothing
        return None, 1
    orientation = int(exif.get(EXIF_ORIENTATION, 1) or 1)
    camera = " ".join(t for t in (_text(exif.get(EXIF_MAKE)), _text(exif.get(EXIF_MODEL))) if t)
    lens = PhotoLens(
        focal_length_mm=_ratio(sub.get(EXIF_FOCAL_LENGTH)),
        focal_length_35mm_mm=_ratio(sub.get(EXIF_FOCAL_LENGTH_35MM)),
        f_number=_ratio(sub.get(EXIF_FNUMBER)),
        lens_model=_text(sub.get(EXIF_LENS_MODEL)),
        camera=camera or None,
    )
    orientation = orientation if 1 <= orientation <= 8 else 1
    if all(v is None for v in vars(lens).values()):
        return None, orientation
    return lens, orientation


def exif_of(path: PathLike) -> tuple[PhotoLens | None, int]:
    """(lens, orientation) from any image's EXIF; (None, 1) when it has none."""
    p = Path(path)
    try:
        if sniff(p) == "heif":
            image = _open_heif(p)
            lens, orientation = exif_facts(image.info.get("exif"))
            original = image.info.get("original_orientation")
            return lens, int(original) if original in range(1, 9) else orientation
        from PIL import Image

        with Image.open(p) as im:
            return exif_facts(im.info.get("exif"))
    except Exception:  # no readable EXIF says nothing
        return None, 1


def _linear(samples: np.ndarray) -> np.ndarray:
    """Integer sRGB samples (HxWx3 or HxW) as HxWx3 float32 linear."""
    if samples.ndim == 2:
        samples = np.repeat(samples[..., None], 3, axis=2)
    return np.ascontiguousarray(decode_srgb_integers(samples[..., :3]), dtype=np.float32)


# --- HEIC / HEIF ------------------------------------------------------------------------


def _open_heif(p: Path) -> Any:
    """The primary image of a HEIF file (8-bit samples, high bit depths reduced)."""
    return open_heif_primary(p)


def heif_depth_to_metres(v: np.ndarray, meta: dict[str, Any], p: Path) -> tuple[np.ndarray, str]:
    """Normalised depth samples (0..1) to metres by the HEIF depth representation info.

    Types 0 and 2 (uniform inverse Z, uniform Z) use z_near/z_far in metres. Type 1,
    uniform disparity, spans d_min..d_max; Apple's portraits store disparity in 1/m
    (their depth XMP: AuxiliaryImageType disparity, FloatMin/MaxValue = d_min/d_max),
    so the depth is 1 / disparity. Type 3 needs a model this reader does not have.
    """
    kind = meta.get("representation_type")
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind in (HEIF_INVERSE_Z, HEIF_Z):
            near, far = _range(meta, "z_near", "z_far", p)
            if kind == HEIF_INVERSE_Z:
                z = 1.0 / (1.0 / far + v * (1.0 / near - 1.0 / far))
                text = f"inverse depth {near:.4g}..{far:.4g} m (HEIF uniform inverse Z)"
            else:
                z = near + v * (far - near)
                text = f"linear depth {near:.4g}..{far:.4g} m (HEIF uniform Z)"
        elif kind == HEIF_DISPARITY:
            lo, hi = _range(meta, "d_min", "d_max", p)
            z = 1.0 / (lo + v * (hi - lo))
            text = (
                f"disparity {lo:.4g}..{hi:.4g} /m = depth {1 / hi:.4g}..{1 / lo:.4g} m "
                "(HEIF uniform disparity)"
            )
        else:
            what = "non-uniform disparity" if kind == HEIF_NONUNIFORM_DISPARITY else f"{kind}"
            raise InputError(f"{p}: HEIF depth representation {what} is not supported")
    z = np.asarray(z, dtype=np.float32)
    z[~np.isfinite(z) | (z <= 0)] = np.nan
    return z, text


def _range(meta: dict[str, Any], low: str, high: str, p: Path) -> tuple[float, float]:
    """Two positive increasing numbers from HEIF depth metadata; InputError otherwise."""
    lo, hi = _ratio(meta.get(low)), _ratio(meta.get(high))
    if lo is None or hi is None or not lo < hi:
        raise InputError(
            f"{p}: HEIF depth has no valid {low}/{high} ({meta.get(low)}, {meta.get(high)})"
        )
    return lo, hi


def _read_heif(p: Path) -> PhotoDepth:
    try:
        image = _open_heif(p)
        depth_images = image.info.get("depth_images") or []
        if not depth_images:
            raise InputError(f"{p}: holds no depth image; pass --depth")
        stored = np.asarray(depth_images[0])
        meta = dict(depth_images[0].info.get("metadata") or {})
        color = np.asarray(image)  # libheif applies the primary's own rotation and mirror
        exif = image.info.get("exif")
        original = image.info.get("original_orientation")
    except InputError:
        raise
    except Exception as e:  # any decoding failure is the file's fault
        raise InputError(f"{p}: cannot read as HEIF: {one_line(e)}") from e
    if stored.ndim == 3:
        stored = stored[..., 0]
    top = np.iinfo(stored.dtype).max if stored.dtype.kind in "ui" else 1.0
    depth, convention = heif_depth_to_metres(stored.astype(np.float64) / top, meta, p)
    lens, orientation = exif_facts(exif)
    if original is not None:
        orientation = int(original) if 1 <= int(original) <= 8 else 1
    # The colour comes upright from libheif; the depth item carries its own transforms,
    # which writers do not always set. A depth map lying across an upright colour still
    # needs the EXIF turn.
    if _across(depth.shape, color.shape[:2]) and orientation >= 5:
        depth = orient(depth, orientation)
    return PhotoDepth(_linear(color), depth, convention, lens, orientation, "HEIF")


def _across(depth_shape: tuple[int, ...], color_shape: tuple[int, ...]) -> bool:
    """Whether one image is landscape and the other portrait."""
    dh, dw = depth_shape[:2]
    ch, cw = color_shape[:2]
    return (dh - dw) * (ch - cw) < 0


# --- JPEG -------------------------------------------------------------------------------


def _read_jpeg(p: Path) -> PhotoDepth:
    data = p.read_bytes()
    stored = read_jpeg_depth(data, p)
    if stored is None:
        raise InputError(
            f"{p}: JPEG carries no depth (no Dynamic Depth or GDepth XMP); pass --depth"
        )
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:  # the primary image: the file's first JPEG
            exif = im.info.get("exif")
            samples = np.asarray(im.convert("RGB") if im.mode not in ("RGB", "L") else im)
    except Exception as e:  # any decoding failure is the file's fault
        raise InputError(f"{p}: cannot read as JPEG: {one_line(e)}") from e
    lens, orientation = exif_facts(exif)
    color = orient(_linear(samples), orientation)
    depth = orient(stored.depth_m, orientation)
    return PhotoDepth(color, depth, stored.convention, lens, orientation, stored.container)


# --- OpenEXR ----------------------------------------------------------------------------


ExrPick = tuple[tuple[int, tuple[str, str, str]], tuple[int, str]]


def _exr_pick(parts: list[list[str]]) -> ExrPick | None:
    """((part, (R, G, B names)), (part, depth name)) from each part's channel names: depth
    by EXR_DEPTH_NAMES or <layer>.Depth.Z; colour a complete R/G/B triple, <layer>.Combined
    first (Blender's beauty pass), then the bare R, G, B, then any other layer's."""
    color = None
    depth = None
    for i, names in enumerate(parts):
        present = set(names)
        if depth is None:
            name = next((n for n in EXR_DEPTH_NAMES if n in present), None)
            name = name or next((n for n in names if n.endswith(".Depth.Z")), None)
            if name is not None:
                depth = (i, name)
        reds = [n[:-1] for n in names if n == "R" or n.endswith(".R")]
        reds.sort(key=lambda base: (not base.endswith("Combined."), base != "", base))
        for base in reds:
            triple = (f"{base}R", f"{base}G", f"{base}B")
            if color is None and all(c in present for c in triple):
                color = (i, triple)
    if color is None or depth is None:
        return None
    return color, depth


def _read_exr(p: Path) -> PhotoDepth:
    try:
        import OpenEXR

        with OpenEXR.File(str(p), separate_channels=True) as f:
            parts = [dict(part.channels) for part in f.parts]
            names = [list(channels) for channels in parts]
            pick = _exr_pick(names)
            if pick is None:
                listed = "; ".join(", ".join(n) for n in names)
                raise InputError(
                    f"{p}: EXR holds no colour and depth pair (R/G/B and Z, depth.Z or "
                    f"<layer>.Depth.Z); it has {listed}; pass --depth"
                )
            (ci, triple), (di, zname) = pick
            color = np.stack([np.asarray(parts[ci][c].pixels) for c in triple], axis=-1)
            depth = np.asarray(parts[di][zname].pixels)
    except InputError:
        raise
    except Exception as e:  # any decoding failure is the file's fault
        raise InputError(f"{p}: cannot read as OpenEXR: {one_line(e)}") from e
    color = color.astype(np.float32)
    if not np.isfinite(color).all():
        raise InputError(
            f"{p}: {int((~np.isfinite(color)).any(axis=2).sum())} colour pixels are NaN or infinite"
        )
    depth = depth.astype(np.float32)
    depth[~np.isfinite(depth) | (depth <= 0)] = np.nan
    where = f"channel {zname}" + (f" of part {di}" if len(parts) > 1 else "")
    return PhotoDepth(color, depth, f"metres ({where})", None, 1, "OpenEXR")


__all__ = [
    "PhotoDepth",
    "PhotoLens",
    "exif_facts",
    "exif_of",
    "has_embedded_depth",
    "heif_depth_to_metres",
    "orient",
    "read_photo",
    "sniff",
]
