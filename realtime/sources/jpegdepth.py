"""Depth stored in a JPEG's XMP: Android's Dynamic Depth 1.0 and Google's older GDepth.

Dynamic Depth: the XMP holds a `Device:Container` directory of items (the primary
image first, then the items appended after it, each with `Item:Mime`,
`Item:Length`, `Item:Padding`, `Item:DataURI`) and a camera's `DepthMap` element
(`Format` RangeInverse or RangeLinear, `Near`, `Far`, `Units`, `DepthURI` naming
the item that holds the depth image). Items are found from the end of the file
back, as the container spec says readers should.

GDepth (Lens Blur): `GDepth:Format`, `Near`, `Far`, `Mime` in the main XMP and the
depth image as base64 `GDepth:Data` in the *extended* XMP, which is split over
several APP1 segments (XMP spec part 3, 1.1.3.1): each carries the GUID that the
main XMP names in `xmpNote:HasExtendedXMP`, the full length and its offset.

Stored values v (0..1 of the image's integer range) become metres:
    RangeInverse: d = near far / (far - v (far - near))   (v = 0 at near, 1 at far)
    RangeLinear:  d = near + v (far - near)
Both store 0 at near: RangeInverse encodes v = far (d - near) / (d (far - near)),
which is uniform in 1/d.
The readers here return depth at the depth image's own size; nothing is resampled.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.sources.images import one_line

SOI = b"\xff\xd8"
APP1 = 0xE1
SOS = 0xDA
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"  # a standard XMP packet's APP1 prefix
EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"  # an extended XMP chunk's
GUID_BYTES = 32  # extended XMP: the GUID (an MD5 in hex) after the header
XMP_NOTE_NS = "http://ns.adobe.com/xmp/note/"
DD_DEPTHMAP_NS = "http://ns.google.com/photos/dd/1.0/depthmap/"
ITEM_NAMESPACES = (  # Dynamic Depth's item namespace and the Google container's
    "http://ns.google.com/photos/dd/1.0/item/",
    "http://ns.google.com/photos/1.0/container/item/",
)
GDEPTH_NS = "http://ns.google.com/photos/1.0/depthmap/"
DEPTH_FORMATS = ("RangeInverse", "RangeLinear")
UNIT_METRES = {"meters": 1.0, "metres": 1.0, "millimeters": 0.001, "millimetres": 0.001}


@dataclass(frozen=True)
class StoredDepth:
    """Depth decoded from a JPEG's XMP container."""

    depth_m: np.ndarray  # hxw float32 metres at the depth image's own size, NaN where invalid
    convention: str  # how the stored values became metres, for people
    container: str  # "Dynamic Depth" or "GDepth"


Props = dict[str, str]  # "{namespace}Name" -> value, one XMP description or struct


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every marker segment before the image data."""
    if not data.startswith(SOI):
        raise ValueError("not a JPEG (no start-of-image marker)")
    segments = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"bad JPEG marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == SOS:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise ValueError(f"truncated JPEG segment at byte {pos}")
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return segments


def xmp_packets(segments: list[tuple[int, bytes]]) -> tuple[bytes | None, bytes | None]:
    """(main XMP, reassembled extended XMP) of a JPEG; None for either one it lacks."""
    main = None
    chunks: dict[bytes, dict[int, bytes]] = {}
    lengths: dict[bytes, int] = {}
    for marker, payload in segments:
        if marker != APP1:
            continue
        if payload.startswith(XMP_HEADER) and main is None:
            main = payload[len(XMP_HEADER) :]
        elif payload.startswith(EXTENDED_XMP_HEADER):
            rest = payload[len(EXTENDED_XMP_HEADER) :]
            if len(rest) < GUID_BYTES + 8:
                raise ValueError("truncated extended XMP segment")
            guid = rest[:GUID_BYTES]
            total, offset = struct.unpack(">II", rest[GUID_BYTES : GUID_BYTES + 8])
            lengths[guid] = total
            chunks.setdefault(guid, {})[offset] = rest[GUID_BYTES + 8 :]
    if main is None or not chunks:
        return main, None
    named = _extended_guid(main)
    if named is not None and named in chunks:
        guid = named
    elif len(chunks) == 1:
        guid = next(iter(chunks))
    else:
        return main, None
    extended = bytearray(lengths[guid])
    covered = 0
    for offset, chunk in chunks[guid].items():
        if offset + len(chunk) > len(extended):
            raise ValueError("extended XMP chunk lies past its stated length")
        extended[offset : offset + len(chunk)] = chunk
        covered += len(chunk)
    if covered != len(extended):
        raise ValueError(f"extended XMP is incomplete ({covered} of {len(extended)} bytes)")
    return main, bytes(extended)


def _extended_guid(main: bytes) -> bytes | None:
    for props in xmp_descriptions(main):
        guid = props.get(f"{{{XMP_NOTE_NS}}}HasExtendedXMP")
        if guid:
            return guid.strip().encode("ascii", "replace")
    return None


def xmp_descriptions(packet: bytes) -> list[Props]:
    """Every element's simple properties (attributes and text-only children), in order."""
    text = packet.strip(b"\x00 \t\r\n")
    start = text.find(b"<x:xmpmeta")
    end = text.rfind(b"</x:xmpmeta>")
    if start >= 0 and end > start:
        text = text[start : end + len(b"</x:xmpmeta>")]
    root = ET.fromstring(text)
    out = []
    for element in root.iter():
        props: Props = dict(element.attrib)
        for child in element:
            if len(child) == 0 and child.text is not None and child.text.strip():
                props[child.tag] = child.text.strip()
        if props:
            out.append(props)
    return out


def _find(descriptions: list[Props], namespace: str, name: str) -> Props | None:
    """The first description holding namespace:name."""
    key = f"{{{namespace}}}{name}"
    return next((d for d in descriptions if key in d), None)


def _get(props: Props, namespace: str, name: str) -> str | None:
    return props.get(f"{{{namespace}}}{name}")


def _number(props: Props, namespace: str, name: str, prefix: str) -> float:
    text = _get(props, namespace, name)
    try:
        value = float(text) if text is not None else float("nan")
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise InputError(f"{prefix}:{name} is {text!r}; expected a positive number")
    return value


def _decode_depth_image(blob: bytes) -> np.ndarray:
    """A PNG or JPEG depth image's first channel as values 0..1, float64."""
    from PIL import Image

    with Image.open(io.BytesIO(blob)) as im:
        arr = np.asarray(im)
        mode = im.mode
    if arr.ndim == 3:
        arr = arr[..., 0]
    if arr.dtype.kind not in "ui":
        raise ValueError(f"depth image samples are {arr.dtype}, expected integers")
    top = 65535 if mode in ("I", "I;16", "I;16B") else np.iinfo(arr.dtype).max
    return arr.astype(np.float64) / top


def range_to_metres(v: np.ndarray, kind: str, near_m: float, far_m: float) -> np.ndarray:
    """Normalised stored values (0..1) to float32 metres by the Range formats above."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "RangeInverse":
            d = near_m * far_m / (far_m - v * (far_m - near_m))
        else:
            d = near_m + v * (far_m - near_m)
    d = d.astype(np.float32)
    d[~np.isfinite(d) | (d <= 0)] = np.nan
    return d


def _range_depth(
    props: Props, namespace: str, prefix: str, blob: bytes, p: Path, container: str
) -> StoredDepth:
    kind = _get(props, namespace, "Format")
    if kind not in DEPTH_FORMATS:
        raise InputError(f"{p}: {prefix}:Format {kind!r} is not one of {', '.join(DEPTH_FORMATS)}")
    near = _number(props, namespace, "Near", f"{p}: {prefix}")
    far = _number(props, namespace, "Far", f"{p}: {prefix}")
    units = (_get(props, namespace, "Units") or "Meters").strip().lower()
    if units not in UNIT_METRES:
        raise InputError(f"{p}: {prefix}:Units {units!r}; expected Meters or Millimeters")
    near, far = near * UNIT_METRES[units], far * UNIT_METRES[units]
    if not near < far:
        raise InputError(f"{p}: {prefix}:Near {near:g} m is not less than Far {far:g} m")
    try:
        v = _decode_depth_image(blob)
    except Exception as e:  # a broken embedded image is the file's fault
        raise InputError(f"{p}: cannot decode the {container} depth image: {one_line(e)}") from e
    word = "inverse depth" if kind == "RangeInverse" else "linear depth"
    convention = f"{word} {near:.4g}..{far:.4g} m ({container} {kind})"
    return StoredDepth(range_to_metres(v, kind, near, far), convention, container)


def _item_key(props: Props, name: str) -> str | None:
    for ns in ITEM_NAMESPACES:
        value = _get(props, ns, name)
        if value is not None:
            return value
    return None


def _dynamic_depth(data: bytes, descriptions: list[Props], p: Path) -> StoredDepth | None:
    depth_props = _find(descriptions, DD_DEPTHMAP_NS, "Format")
    if depth_props is None:
        return None
    items = [d for d in descriptions if _item_key(d, "Mime") is not None]
    if len(items) < 2:
        raise InputError(f"{p}: Dynamic Depth XMP names a depth map but no appended depth item")
    # Items after the primary lie at the end of the file, each followed by its padding.
    spans = []
    end = len(data)
    for item in reversed(items[1:]):
        try:
            length = int(_item_key(item, "Length") or "")
            padding = int(_item_key(item, "Padding") or "0")
        except ValueError:
            raise InputError(f"{p}: Dynamic Depth item without a valid Item:Length") from None
        end -= padding
        spans.append((item, end - length, end))
        end -= length
    if end < 2:
        raise InputError(f"{p}: Dynamic Depth items are longer than the file (truncated?)")
    uri = _get(depth_props, DD_DEPTHMAP_NS, "DepthURI")
    chosen = None
    for item, start, stop in reversed(spans):
        if uri is not None and _item_key(item, "DataURI") == uri:
            chosen = (start, stop)
        elif uri is None and (_item_key(item, "Semantic") or "").lower() == "depth":
            chosen = (start, stop)
        if chosen is not None:
            break
    if chosen is None:
        raise InputError(f"{p}: Dynamic Depth XMP has no item for depth map {uri or 'Depth'!r}")
    return _range_depth(
        depth_props, DD_DEPTHMAP_NS, "DepthMap", data[chosen[0] : chosen[1]], p, "Dynamic Depth"
    )


def _gdepth(descriptions: list[Props], extended: list[Props], p: Path) -> StoredDepth | None:
    props = _find(descriptions, GDEPTH_NS, "Format")
    if props is None:
        return None
    merged = dict(props)
    for d in extended:
        merged.update({k: v for k, v in d.items() if k.startswith(f"{{{GDEPTH_NS}}}")})
    data = _get(merged, GDEPTH_NS, "Data")
    if data is None:
        raise InputError(f"{p}: GDepth XMP names a depth map but holds no GDepth:Data")
    try:
        blob = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError(f"{p}: GDepth:Data is not valid base64: {one_line(e)}") from e
    return _range_depth(merged, GDEPTH_NS, "GDepth", blob, p, "GDepth")


def read_jpeg_depth(data: bytes, p: Path) -> StoredDepth | None:
    """The depth a JPEG's XMP carries (Dynamic Depth first, then GDepth); None if none."""
    try:
        main, extended = xmp_packets(jpeg_segments(data))
        descriptions = xmp_descriptions(main) if main is not None else []
        ext_descriptions = xmp_descriptions(extended) if extended is not None else []
    except (ValueError, ET.ParseError) as e:
        raise InputError(f"{p}: cannot read the JPEG's XMP: {one_line(e)}") from e
    found = _dynamic_depth(data, descriptions, p)
    return found if found is not None else _gdepth(descriptions, ext_descriptions, p)


def jpeg_names_depth(data: bytes) -> bool:
    """Whether a JPEG's XMP names a depth map (no image decoded); False when unreadable."""
    try:
        main, _ = xmp_packets(jpeg_segments(data))
        if main is None:
            return False
        descriptions = xmp_descriptions(main)
    except (ValueError, ET.ParseError):
        return False
    return any(_find(descriptions, ns, "Format") for ns in (DD_DEPTHMAP_NS, GDEPTH_NS))


__all__ = ["StoredDepth", "jpeg_names_depth", "range_to_metres", "read_jpeg_depth"]
