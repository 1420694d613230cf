"""Command-line options shared by the front ends: the lens, sink and web remote groups and
value parsers.

Values are parsed here rather than by argparse `type=` so that a bad one is an
InputError with one line, like every other input problem.
"""

from __future__ import annotations

import argparse
import math
from fractions import Fraction
from typing import TYPE_CHECKING

from realtime.errors import InputError
from realtime.lens import MAX_COC_LIMIT_PX, Lens

if TYPE_CHECKING:
    from realtime.focus import FocusTarget
    from realtime.sources.photos import PhotoLens
    from realtime.tiling import TileOptions

# The lens when nothing names one (no option, no photo EXIF): a full-frame 50 mm at f/2.
DEFAULT_FOCAL_LENGTH_MM = 50.0
DEFAULT_F_NUMBER = 2.0
DEFAULT_SENSOR_WIDTH_MM = 36.0
# A photo whose EXIF gives its 35 mm-equivalent focal length is rendered as that lens on a
# full-frame (36 mm) sensor. The phone's own aperture (f/1.5 at 5.7 mm) is no guide: on
# full frame it is about f/7, almost no blur, and the blur people want from a phone's depth
# is its portrait mode's, which simulates about f/1.4 to f/2.8 full-frame. PORTRAIT_F_NUMBER
# is the middle of that range (in stops: sqrt(1.4 x 2.8) = 1.98): at 26 mm focused on 0.35 m,
# a wall at 0.67 m gets a 0.50 mm blur disc on 36 mm (1.4% of the width, 56 px on a 12 MP
# frame), a portrait look; it is also the default above, so only the focal length changes.
FULL_FRAME_WIDTH_MM = 36.0
PORTRAIT_F_NUMBER = 2.0


def add_lens_arguments(parser: argparse.ArgumentParser, focus_required: bool = False) -> None:
    """Thin-lens options; every front end that renders takes the same ones."""
    group = parser.add_argument_group("lens")
    add = group.add_argument
    add(
        "--focal-length",
        type=float,
        metavar="MM",
        help="focal length in mm (default 50; a photo's 35 mm-equivalent from its EXIF)",
    )
    add(
        "--f-number",
        type=float,
        metavar="N",
        help=f"f-number (default 2.0; a photo with EXIF: f/{PORTRAIT_F_NUMBER:g} full-frame, "
        "a phone portrait's look)",
    )
    add(
        "--sensor-width",
        type=float,
        metavar="MM",
        help="sensor width in mm (default 36, full frame)",
    )
    add(
        "--focus",
        type=parse_focus,
        metavar="METRES",
        help=f"focus distance in metres, or {AUTO_FOCUS} (the nearest subject)",
    )
    add(
        "--blur",
        type=float,
        metavar="PX",
        help="artistic mode: CoC diameter at infinity in px (ignores the lens)",
    )
    add(
        "--max-coc",
        type=float,
        metavar="PX",
        help="clamp CoC diameters to this (default: none, the lens's own blur, up to "
        f"{MAX_COC_LIMIT_PX:g}); a clamp that cuts the blur is reported on stderr",
    )
    add(
        "--blades",
        type=int,
        default=0,
        metavar="N",
        help="aperture blades (0 = circular, else 3..16)",
    )
    add(
        "--blade-rotation",
        type=float,
        default=0.0,
        metavar="DEG",
        help="rotation of a bladed aperture",
    )


def lens_from_args(
    args: argparse.Namespace, focus_m: float | None = None, photo: PhotoLens | None = None
) -> Lens:
    """The Lens the options describe; InputError on bad values or a missing focus.

    Options not given come from the photo's EXIF when it has a 35 mm-equivalent focal
    length (that lens on full frame at PORTRAIT_F_NUMBER), else from the defaults above.
    A focus picked from the depth (--focus auto, --focus-at) is not known yet: front ends
    that take one pass a placeholder `focus_m` and set the picked focus later.
    """
    focus = focus_m if focus_m is not None else args.focus
    if focus is None:
        raise InputError("--focus METRES is required")
    if focus == AUTO_FOCUS:
        raise InputError(f"--focus {AUTO_FOCUS} is not available here; give METRES")
    focal, f_number, sensor = DEFAULT_FOCAL_LENGTH_MM, DEFAULT_F_NUMBER, DEFAULT_SENSOR_WIDTH_MM
    if photo is not None and photo.focal_length_35mm_mm is not None:
        focal, f_number = photo.focal_length_35mm_mm, PORTRAIT_F_NUMBER
        sensor = FULL_FRAME_WIDTH_MM
    given = (getattr(args, name, None) for name in ("focal_length", "f_number", "sensor_width"))
    focal_arg, f_number_arg, sensor_arg = given
    return Lens(
        focal_length_mm=focal_arg if focal_arg is not None else focal,
        f_number=f_number_arg if f_number_arg is not None else f_number,
        sensor_width_mm=sensor_arg if sensor_arg is not None else sensor,
        focus_m=focus,
        artistic_blur_px=args.blur,
        max_coc_px=args.max_coc,
        blades=args.blades,
        blade_rotation_deg=args.blade_rotation,
    )


AUTO_FOCUS = "auto"  # --focus auto: the nearest subject (realtime.focus.NearTarget)


def parse_focus(text: str) -> float | str:
    """--focus: metres, or AUTO_FOCUS (argparse reports a bad value in one line)."""
    if text.strip().lower() == AUTO_FOCUS:
        return AUTO_FOCUS
    try:
        return parse_number(text, "--focus", "METRES")
    except InputError as e:
        raise argparse.ArgumentTypeError(f"expected METRES or {AUTO_FOCUS}: {e}") from None


FOCUS_AT_HELP = (
    "focus on what is at X,Y: a pixel (whole numbers, column,row from the top left) or, "
    "when either number has a decimal point, fractions of the width and height in 0..1 "
    "(0.5,0.4); the median depth of a small window there, holes ignored"
)


def parse_focus_at(text: str) -> FocusTarget:
    """--focus-at X,Y: a PixelTarget, or a FractionTarget when either number has a '.'."""
    from realtime.focus import FractionTarget, PixelTarget

    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise InputError(f"--focus-at {text}: expected X,Y (pixels 640,360 or fractions 0.5,0.4)")
    if any("." in p for p in parts):
        x, y = (parse_number(p, "--focus-at", "X,Y") for p in parts)
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise InputError(
                f"--focus-at {text}: fractions must lie in 0..1 (pixels are whole numbers)"
            )
        return FractionTarget(x, y)
    if not all(p.isdigit() for p in parts):
        raise InputError(f"--focus-at {text}: pixels are whole numbers >= 0, e.g. 640,360")
    return PixelTarget(int(parts[0]), int(parts[1]))


def focus_target_from_args(args: argparse.Namespace) -> FocusTarget | None:
    """What --focus-at or --focus auto pick from the depth; None for --focus METRES (or none).

    --focus-at with --focus (or --rack, where the front end has it) is an InputError."""
    from realtime.focus import NearTarget

    at = getattr(args, "focus_at", None)
    if at is None:
        return NearTarget() if args.focus == AUTO_FOCUS else None
    for flag, value in (("--focus", args.focus), ("--rack", getattr(args, "rack", None))):
        if value is not None:
            raise InputError(f"--focus-at and {flag} both set the focus; give one of them")
    return parse_focus_at(at)


def add_farm_arguments(parser: argparse.ArgumentParser) -> None:
    """render's --ray and --chunk-frames (realtime.farm)."""
    farm = parser.add_argument_group("render farm (Ray; pip install 'rackfocus[farm]')")
    farm.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="render the clip in chunks on Ray: a new local instance, or a cluster's ADDRESS "
        "(auto, HOST:PORT, ray://HOST:PORT); outputs must be on a path every worker shares",
    )
    farm.add_argument(
        "--chunk-frames", metavar="N", help="frames per Ray task (default: a few per worker)"
    )


def add_sink_arguments(group: argparse._ArgumentGroup) -> None:
    """--ndi and --stream: presented frames out to other programs (realtime.outputs.sinks)."""
    group.add_argument(
        "--ndi", metavar="NAME", help="send every presented frame as the NDI source NAME"
    )
    group.add_argument(
        "--stream",
        metavar="URL",
        help="and as low-latency H.264 MPEG-TS to udp://HOST:PORT or srt://HOST:PORT",
    )


def sinks_from_args(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(NDI source name, stream URL) of --ndi and --stream, checked; None where not given."""
    from realtime.outputs.ndi import check_ndi_name
    from realtime.outputs.stream import check_stream_url

    ndi = check_ndi_name(args.ndi) if args.ndi is not None else None
    return ndi, check_stream_url(args.stream) if args.stream is not None else None


TCP_PORTS = (0, 65535)  # --web: a TCP port; 0 asks for any free one
DEFAULT_WEB_HOST = "127.0.0.1"  # the web remote listens on this machine only unless told


def add_web_arguments(group: argparse._ArgumentGroup) -> None:
    """--web, --web-host, --web-token: the web remote for a phone (realtime.show.web)."""
    group.add_argument(
        "--web", type=int, metavar="PORT", help="serve the web remote on TCP PORT (0: any)"
    )
    group.add_argument(
        "--web-host",
        metavar="ADDR",
        help=f"its address (default {DEFAULT_WEB_HOST}; phones: 0.0.0.0)",
    )
    group.add_argument(
        "--web-token",
        metavar="TOKEN",
        help="the web remote's token (default: a new one each start, printed with the URL)",
    )


def web_from_args(args: argparse.Namespace) -> tuple[int | None, str | None, str | None]:
    """(port, host, token) of --web, --web-host and --web-token, checked; None where not
    given."""
    low, high = TCP_PORTS
    if args.web is not None and not low <= args.web <= high:
        raise InputError(f"--web {args.web}: must be a TCP port, {low}..{high}")
    token = None
    if args.web_token is not None:
        from realtime.show.web import check_token

        token = check_token(args.web_token)
    return args.web, args.web_host, token


def add_tiling_arguments(parser: argparse.ArgumentParser) -> None:
    """Tiled rendering of large frames (realtime.tiling)."""
    from realtime.tiling import DEFAULT_MEMORY_SHARE

    group = parser.add_argument_group("large frames (rendered in tiles past the GPU's limits)")
    add = group.add_argument
    add(
        "--tile-size",
        metavar="PX",
        help="render in tiles of PX x PX output pixels (a multiple of 16; default: tiles "
        "only when a frame exceeds the GPU's texture limit or --max-memory)",
    )
    add(
        "--max-memory",
        metavar="SIZE",
        help="memory the pass chain may use for one tile, e.g. 1500M or 2G "
        f"(default 1/{DEFAULT_MEMORY_SHARE} of this machine's memory)",
    )


MEMORY_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}  # --max-memory suffixes


def tile_options_from_args(args: argparse.Namespace) -> TileOptions:
    """--tile-size and --max-memory as TileOptions; InputError on bad values."""
    from realtime.passes.constants import TILE_SIZE
    from realtime.tiling import TileOptions

    tile = None
    if args.tile_size is not None:
        text = args.tile_size
        if not text.isdigit() or int(text) <= 0 or int(text) % TILE_SIZE:
            raise InputError(f"--tile-size {text}: expected a positive multiple of {TILE_SIZE} px")
        tile = int(text)
    memory = None
    if args.max_memory is not None:
        text = args.max_memory.strip().upper().removesuffix("B").removesuffix("I")
        unit = text[-1:] if text[-1:] in MEMORY_UNITS else ""
        try:
            value = float(text[: len(text) - len(unit)])
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"--max-memory {args.max_memory}: expected a size such as 1500M or 2G")
        memory = int(value * MEMORY_UNITS[unit])
    return TileOptions(tile, memory)


MAX_SIDE = 16384  # largest frame side any front end accepts, px


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    """'WxH' -> (width, height), each 1..MAX_SIDE; InputError names the option otherwise."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and 0 < int(p) <= MAX_SIDE for p in parts):
        raise InputError(f"{option} {text}: expected WxH in pixels, e.g. 960x540")
    return int(parts[0]), int(parts[1])


def parse_number(text: str, option: str, what: str = "value") -> float:
    """A finite number; InputError naming the option otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{option} {text}: {what} must be a number") from None
    if not math.isfinite(value):
        raise InputError(f"{option} {text}: {what} must be finite")
    return value


def parse_positive(text: str, option: str, what: str = "value") -> float:
    """A finite number above 0."""
    value = parse_number(text, option, what)
    if value <= 0:
        raise InputError(f"{option} {text}: {what} must be positive")
    return value


def parse_fps(text: str) -> float:
    """A positive frame rate: a number, or a ratio such as 24000/1001."""
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise InputError(f"--fps {text}: expected a number such as 24 or 24000/1001") from None
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"--fps {text}: must be positive")
    return value
