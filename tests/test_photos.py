"""Photos that carry their depth (realtime.sources.photos, jpegdepth), `render --rgb photo`
without --depth, the lens defaults from EXIF and `rackfocus info`.

The iPhone HEIC is a real file (tests/data/photos/README.md); Dynamic Depth and GDepth
JPEGs and EXRs are built here per their specs, with known near/far and stored values.
"""

from __future__ import annotations

import argparse
import base64
import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from realtime.cli import main
from realtime.errors import InputError
from realtime.options import PORTRAIT_F_NUMBER, lens_from_args
from realtime.sources.images import srgb_to_linear
from realtime.sources.jpegdepth import EXTENDED_XMP_HEADER, XMP_HEADER
from realtime.sources.photos import (
    PhotoLens,
    exif_facts,
    has_embedded_depth,
    orient,
    read_photo,
)

DATA = Path(__file__).parent / "data" / "photos"
IPHONE = DATA / "iphone13pro_portrait_pug.heic"
NEAR_M, FAR_M = 0.5, 8.0


# --- building files ---------------------------------------------------------------------


def _jpeg(rgb: np.ndarray, orientation: int | None = None, focal_35mm: int | None = None) -> bytes:
    """A baseline JPEG of `rgb` (uint8 HxWx3) with an EXIF orientation and lens, if given."""
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if focal_35mm is not None:
        exif.get_ifd(0x8769)[0xA405] = focal_35mm
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def _png16(values: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(values.astype(np.uint16)).save(out, "PNG")
    return out.getvalue()


def _with_app1(jpeg: bytes, payloads: list[bytes]) -> bytes:
    """`jpeg` with APP1 segments holding `payloads` inserted after its start marker."""
    segments = b"".join(b"\xff\xe1" + struct.pack(">H", len(x) + 2) + x for x in payloads)
    return jpeg[:2] + segments + jpeg[2:]


def _xmp(body: str, namespaces: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" {namespaces}>{body}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


def dynamic_depth_jpeg(
    rgb: np.ndarray, stored: np.ndarray, fmt: str = "RangeInverse", orientation: int | None = None
) -> bytes:
    """A Dynamic Depth 1.0 JPEG: the primary, then a confidence PNG and the depth PNG."""
    depth_png = _png16(stored)
    confidence = _png16(np.full((2, 2), 65535))
    namespaces = (
        'xmlns:Device="http://ns.google.com/photos/dd/1.0/device/" '
        'xmlns:Container="http://ns.google.com/photos/dd/1.0/container/" '
        'xmlns:Item="http://ns.google.com/photos/dd/1.0/item/" '
        'xmlns:Camera="http://ns.google.com/photos/dd/1.0/camera/" '
        'xmlns:DepthMap="http://ns.google.com/photos/dd/1.0/depthmap/"'
    )
    body = (
        "<Device:Container><Container:Directory><rdf:Seq>"
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" '
        'Item:Semantic="Primary" Item:Length="0" Item:Padding="0"/></rdf:li>'
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/png" '
        f'Item:Semantic="Depth" Item:Length="{len(depth_png)}" Item:Padding="3" '
        'Item:DataURI="android/depthmap"/></rdf:li>'
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/png" '
        f'Item:Semantic="Confidence" Item:Length="{len(confidence)}" '
        'Item:DataURI="android/confidencemap"/></rdf:li>'
        "</rdf:Seq></Container:Directory></Device:Container>"
        '<Device:Cameras><rdf:Seq><rdf:li rdf:parseType="Resource"><Device:Camera '
        'rdf:parseType="Resource"><Camera:DepthMap rdf:parseType="Resource">'
        f"<DepthMap:Format>{fmt}</DepthMap:Format><DepthMap:Near>{NEAR_M}</DepthMap:Near>"
        f"<DepthMap:Far>{FAR_M}</DepthMap:Far><DepthMap:Units>Meters</DepthMap:Units>"
        "<DepthMap:DepthURI>android/depthmap</DepthMap:DepthURI>"
        "</Camera:DepthMap></Device:Camera></rdf:li></rdf:Seq></Device:Cameras>"
    )
    primary = _with_app1(_jpeg(rgb, orientation), [XMP_HEADER + _xmp(body, namespaces)])
    return primary + depth_png + b"\0\0\0" + confidence


def gdepth_jpeg(rgb: np.ndarray, stored: np.ndarray, chunk: int = 200) -> bytes:
    """A Lens Blur JPEG: GDepth in the main XMP, its Data in extended XMP split into
    `chunk`-byte APP1 segments, written out of order (readers go by offset)."""
    guid = "0123456789ABCDEF0123456789ABCDEF"
    ns_gdepth = 'xmlns:GDepth="http://ns.google.com/photos/1.0/depthmap/"'
    main_xmp = _xmp(
        "",
        f'{ns_gdepth} xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
        f'GDepth:Format="RangeLinear" GDepth:Near="{NEAR_M}" GDepth:Far="{FAR_M}" '
        f'GDepth:Mime="image/png" xmpNote:HasExtendedXMP="{guid}"',
    )
    data = base64.b64encode(_png16(stored)).decode()
    extended = _xmp("", f'{ns_gdepth} GDepth:Data="{data}"')
    pieces = []
    for offset in range(0, len(extended), chunk):
        header = EXTENDED_XMP_HEADER + guid.encode() + struct.pack(">II", len(extended), offset)
        pieces.append(header + extended[offset : offset + chunk])
    assert len(pieces) > 3
    return _with_app1(_jpeg(rgb), [XMP_HEADER + main_xmp, *pieces[::-1]])


def range_inverse(v: np.ndarray) -> np.ndarray:
    return NEAR_M * FAR_M / (FAR_M - v * (FAR_M - NEAR_M))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray]:
    """(colour 24x32 uint8, depth 12x16 stored uint16): colour and depth not the same size."""
    rng = np.random.default_rng(3)
    rgb = np.full((24, 32, 3), 128, np.uint8)
    stored = rng.integers(0, 65536, size=(12, 16)).astype(np.uint16)
    stored[0, 0], stored[0, 1] = 0, 65535  # near and far exactly
    return rgb, stored


# --- readers ----------------------------------------------------------------------------


def test_dynamic_depth_range_inverse_round_trips(tmp_path, scene):
    rgb, stored = scene
    path = _write(tmp_path, "dd.jpg", dynamic_depth_jpeg(rgb, stored))
    assert has_embedded_depth(path)
    photo = read_photo(path)
    assert photo.container == "Dynamic Depth"
    assert photo.color.shape == (24, 32, 3) and photo.depth_m.shape == (12, 16)  # own sizes
    np.testing.assert_allclose(photo.depth_m, range_inverse(stored / 65535), rtol=1e-5)
    assert photo.depth_m[0, 0] == pytest.approx(NEAR_M)
    assert photo.depth_m[0, 1] == pytest.approx(FAR_M)
    assert "inverse depth 0.5..8 m" in photo.convention
    np.testing.assert_allclose(photo.color, srgb_to_linear(128 / 255), atol=0.01)


def test_dynamic_depth_range_linear(tmp_path, scene):
    rgb, stored = scene
    photo = read_photo(_write(tmp_path, "dd.jpg", dynamic_depth_jpeg(rgb, stored, "RangeLinear")))
    np.testing.assert_allclose(photo.depth_m, NEAR_M + stored / 65535 * (FAR_M - NEAR_M), rtol=1e-5)


def test_gdepth_extended_xmp_reassembled_by_offset(tmp_path, scene):
    rgb, stored = scene
    path = _write(tmp_path, "lensblur.jpg", gdepth_jpeg(rgb, stored))
    assert has_embedded_depth(path)
    photo = read_photo(path)
    assert photo.container == "GDepth" and photo.depth_m.shape == (12, 16)
    np.testing.assert_allclose(photo.depth_m, NEAR_M + stored / 65535 * (FAR_M - NEAR_M), rtol=1e-5)


def test_orientation_turns_colour_and_depth_alike(tmp_path):
    """Orientation 6 (stored turned: shown 90 degrees clockwise): a marker at the stored
    top-left shows at the top-right, in colour and depth, and both become portrait."""
    rgb = np.zeros((24, 32, 3), np.uint8)
    rgb[:6, :8] = 255
    stored = np.zeros((12, 16), np.uint16)
    stored[:, :] = 65535  # far (8 m)
    stored[:3, :4] = 0  # near (0.5 m)
    photo = read_photo(_write(tmp_path, "o6.jpg", dynamic_depth_jpeg(rgb, stored, orientation=6)))
    assert photo.orientation == 6
    assert photo.color.shape == (32, 24, 3) and photo.depth_m.shape == (16, 12)
    assert photo.color[:8, -6:].min() > 0.9 and photo.color[:8, :-6].max() < 0.1
    assert np.allclose(photo.depth_m[:4, -3:], NEAR_M) and np.allclose(
        photo.depth_m[:4, :-3], FAR_M
    )


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_matches_pillow_exif_transpose(orientation):
    a = np.random.default_rng(orientation).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    im = Image.fromarray(a)
    im.info["exif"] = exif.tobytes()
    im.getexif()[0x0112] = orientation
    expected = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(orient(a, orientation), expected)


def _exr(path: Path, parts: list[dict[str, np.ndarray]]) -> Path:
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    if len(parts) == 1:
        OpenEXR.File(header, parts[0]).write(str(path))
        return path
    (h0, w0) = next(iter(parts[0].values())).shape
    display = (np.array([0, 0], np.int32), np.array([w0 - 1, h0 - 1], np.int32))
    written = []
    for i, channels in enumerate(parts):
        h, w = next(iter(channels.values())).shape
        data = (np.array([0, 0], np.int32), np.array([w - 1, h - 1], np.int32))
        part_header = dict(header, dataWindow=data, displayWindow=display)
        written.append(OpenEXR.Part(part_header, channels, name=f"part{i}"))
    OpenEXR.File(written).write(str(path))
    return path


@pytest.mark.parametrize("layout", ["Z", "depth.Z", "blender", "multipart"])
def test_exr_colour_and_depth(tmp_path, layout):
    rng = np.random.default_rng(5)
    r, g, b = (rng.random((6, 8), dtype=np.float32) for _ in range(3))
    z = (1 + rng.random((6, 8))).astype(np.float32)
    z[0, 0] = 0.0  # no depth
    if layout in ("Z", "depth.Z"):
        parts = [{"R": r, "G": g, "B": b, layout: z}]
    elif layout == "blender":
        parts = [
            {
                "ViewLayer.Combined.R": r,
                "ViewLayer.Combined.G": g,
                "ViewLayer.Combined.B": b,
                "ViewLayer.Combined.A": np.ones_like(r),
                "ViewLayer.Normal.X": r,
                "ViewLayer.Depth.Z": z,
            }
        ]
    else:
        z = z[::2, ::2].copy()  # the depth part is smaller: kept at its own size
        parts = [{"R": r, "G": g, "B": b}, {"Z": z}]
    path = _exr(tmp_path / f"{layout}.exr", parts)
    assert has_embedded_depth(path)
    photo = read_photo(path)
    np.testing.assert_array_equal(photo.color, np.stack([r, g, b], axis=-1))
    assert photo.depth_m.shape == z.shape and np.isnan(photo.depth_m[0, 0])
    np.testing.assert_array_equal(photo.depth_m.ravel()[1:], z.ravel()[1:])
    assert photo.lens is None and photo.orientation == 1


def test_exr_without_depth_says_so(tmp_path):
    one = np.ones((4, 4), np.float32)
    path = _exr(tmp_path / "rgb.exr", [{"R": one, "G": one, "B": one}])
    assert not has_embedded_depth(path)
    with pytest.raises(InputError, match="pass --depth") as e:
        read_photo(path)
    assert "\n" not in str(e.value)


# --- the real iPhone portrait -----------------------------------------------------------


def test_iphone_heic_depth_and_lens():
    photo = read_photo(IPHONE)
    assert photo.container == "HEIF" and photo.orientation == 1
    assert photo.color.shape == (3024, 4032, 3) and photo.color.dtype == np.float32
    assert photo.depth_m.shape == (576, 768)  # the depth image's own size
    # Uniform disparity d_min 1.498046875 .. d_max 4.3828125 per metre, as stored.
    assert np.nanmax(photo.depth_m) == pytest.approx(1 / 1.498046875, rel=1e-5)
    assert np.nanmin(photo.depth_m) == pytest.approx(1 / 4.3828125, rel=1e-5)
    assert "disparity 1.498..4.383 /m" in photo.convention
    assert photo.lens == PhotoLens(
        focal_length_mm=5.7,
        focal_length_35mm_mm=26.0,
        f_number=1.5,
        lens_model="iPhone 13 Pro back dual wide camera 5.7mm f/1.5",
        camera="Apple iPhone 13 Pro",
    )
    # The wall (top) is farther than the pug's bed (bottom right).
    assert np.nanmedian(photo.depth_m[:100]) > np.nanmedian(photo.depth_m[-60:, -60:]) + 0.2


@pytest.fixture
def heic_without_depth(tmp_path) -> Path:
    import pillow_heif

    path = tmp_path / "plain.heic"
    rgb = np.zeros((64, 96, 3), np.uint8)
    pillow_heif.from_bytes("RGB", (96, 64), rgb.tobytes()).save(str(path), quality=90)
    return path


def test_heic_without_depth_one_line(heic_without_depth):
    assert not has_embedded_depth(heic_without_depth)
    with pytest.raises(InputError, match="holds no depth image; pass --depth$"):
        read_photo(heic_without_depth)


# --- lens defaults ----------------------------------------------------------------------


def _lens_args(**given: float) -> argparse.Namespace:
    options = dict(focal_length=None, f_number=None, sensor_width=None, focus=2.0, blur=None)
    options.update(max_coc=None, blades=0, blade_rotation=0.0, **given)
    return argparse.Namespace(**options)


def test_lens_defaults_from_exif_and_options():
    phone = PhotoLens(5.7, 26.0, 1.5, None, None)
    plain = lens_from_args(_lens_args())
    assert (plain.focal_length_mm, plain.f_number, plain.sensor_width_mm) == (50.0, 2.0, 36.0)
    photo = lens_from_args(_lens_args(), photo=phone)
    assert (photo.focal_length_mm, photo.f_number, photo.sensor_width_mm) == (
        26.0,
        PORTRAIT_F_NUMBER,
        36.0,
    )
    given = lens_from_args(_lens_args(f_number=8.0, focal_length=35.0), photo=phone)
    assert (given.focal_length_mm, given.f_number) == (35.0, 8.0)
    no_equivalent = lens_from_args(_lens_args(), photo=PhotoLens(5.7, None, 1.5, None, None))
    assert no_equivalent.focal_length_mm == 50.0
    assert exif_facts(None) == (None, 1)


# --- the command line -------------------------------------------------------------------


def test_render_dynamic_depth_jpeg_without_depth_option(tmp_path, scene, ctx):
    rgb, stored = scene
    rgb = np.random.default_rng(1).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    path = _write(tmp_path, "dd.jpg", dynamic_depth_jpeg(rgb, stored))
    out = tmp_path / "out.png"
    assert main(["render", "--rgb", str(path), "--focus", "1", "-o", str(out)]) == 0
    assert np.asarray(Image.open(out)).shape == (24, 32, 3)


def test_render_iphone_heic(tmp_path, ctx):
    out = tmp_path / "out.png"
    argv = ["render", "--rgb", str(IPHONE), "--focus", "0.35", "--max-coc", "8", "-o", str(out)]
    assert main(argv) == 0
    image = np.asarray(Image.open(out))
    assert image.shape == (3024, 4032, 3) and image.dtype == np.uint8
    assert 20 < image.mean() < 235  # a picture, neither black nor white


def test_render_photo_without_depth_is_one_line(tmp_path, heic_without_depth, capsys):
    jpeg = _write(tmp_path, "plain.jpg", _jpeg(np.zeros((8, 8, 3), np.uint8)))
    for path, says in ((heic_without_depth, "holds no depth image"), (jpeg, "carries no depth")):
        argv = ["render", "--rgb", str(path), "--focus", "1", "-o", str(tmp_path / "o.png")]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and "pass --depth" in err


def test_render_photo_refuses_depth_conventions(tmp_path, scene, capsys):
    path = _write(tmp_path, "dd.jpg", dynamic_depth_jpeg(*scene))
    argv = ["render", "--rgb", str(path), "--depth-scale", "0.001", "--focus", "1", "-o", "x.png"]
    assert main(argv) == 2
    assert "apply to --depth" in capsys.readouterr().err


def test_info_iphone(capsys):
    assert main(["info", str(IPHONE)]) == 0
    out = capsys.readouterr().out
    assert "colour:      4032x3024" in out
    assert "depth:       768x576, 0.2282..0.6675 m" in out
    assert "5.7 mm, f/1.5, 26 mm in 35 mm film" in out
    assert "iPhone 13 Pro back dual wide camera" in out
    assert "orientation: 1" in out
    assert f"26 mm at f/{PORTRAIT_F_NUMBER:g} on a 36 mm sensor" in out


def test_info_plain_missing_and_corrupt(tmp_path, heic_without_depth, capsys):
    assert main(["info", str(heic_without_depth)]) == 0
    out = capsys.readouterr().out
    assert "colour:      96x64" in out and "depth:       none" in out
    broken = _write(tmp_path, "broken.heic", b"\0\0\0\x18ftypheic" + b"\0" * 40)
    for path in (tmp_path / "missing.heic", broken):
        assert main(["info", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err


def test_heic_without_the_photos_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """pillow-heif is the optional extra [photos]: without it, a HEIC is refused with one
    line that names the extra, exit 2."""
    import sys

    from realtime.cli import main

    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # import raises ImportError
    code = main(["render", "--rgb", str(IPHONE), "--focus", "0.35", "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "rackfocus[photos]" in err


def test_a_rack_over_a_phone_photo_renders_from_its_own_depth(tmp_path: Path) -> None:
    """`render --rgb photo.heic --rack A:B` (no --depth): the clip path reads the photo's
    depth and lens too; frames differ as the focus racks from the pug to the wall."""
    import imageio.v3 as iio

    from realtime.cli import main

    out = tmp_path / "rack_%02d.png"
    args = ["render", "--rgb", str(IPHONE), "--rack", "0.3:0.6", "--duration", "0.375"]
    assert main([*args, "--fps", "8", "--size", "252x189", "-o", str(out)]) == 0
    frames = [iio.imread(tmp_path / f"rack_{k:02d}.png").astype(int) for k in range(3)]
    assert all(f.shape == (189, 252, 3) for f in frames)
    assert np.abs(frames[0] - frames[2]).max() > 30  # the focus moved
