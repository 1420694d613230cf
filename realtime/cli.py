"""The `rackfocus` command: argument parsing and the error contract.

Every user error ends as one line on stderr and exit code 2; no traceback.
Front ends are imported lazily so `rackfocus --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from realtime.errors import InputError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (argparse prints the whole usage otherwise)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(EXIT_USAGE)


def add_lens_arguments(parser: argparse.ArgumentParser) -> None:
    """Thin-lens options shared by the front ends."""
    group = parser.add_argument_group("lens")
    group.add_argument(
        "--focal-length",
        type=float,
        default=50.0,
        metavar="MM",
        help="focal length in mm (default 50)",
    )
    group.add_argument(
        "--f-number", type=float, default=2.0, metavar="N", help="f-number (default 2.0)"
    )
    group.add_argument(
        "--sensor-width",
        type=float,
        default=36.0,
        metavar="MM",
        help="sensor width in mm (default 36, full frame)",
    )
    group.add_argument("--focus", type=float, metavar="METRES", help="focus distance in metres")
    group.add_argument(
        "--blur",
        type=float,
        metavar="PX",
        help="artistic mode: CoC diameter at infinity in px (ignores the lens)",
    )
    group.add_argument(
        "--max-coc",
        type=float,
        default=64.0,
        metavar="PX",
        help="clamp CoC diameters to this many px (default 64)",
    )
    group.add_argument(
        "--blades",
        type=int,
        default=0,
        metavar="N",
        help="aperture blades (0 = circular, else 3..16)",
    )
    group.add_argument(
        "--blade-rotation",
        type=float,
        default=0.0,
        metavar="DEG",
        help="rotation of a bladed aperture",
    )


def lens_from_args(args: argparse.Namespace, focus_m: float | None = None):
    """The Lens the options describe (InputError on bad values)."""
    from realtime.lens import Lens

    focus = focus_m if focus_m is not None else args.focus
    if focus is None:
        raise InputError("--focus METRES is required")
    return Lens(
        focal_length_mm=args.focal_length,
        f_number=args.f_number,
        sensor_width_mm=args.sensor_width,
        focus_m=focus,
        artistic_blur_px=args.blur,
        max_coc_px=args.max_coc,
        blades=args.blades,
        blade_rotation_deg=args.blade_rotation,
    )


def build_parser() -> argparse.ArgumentParser:
    from realtime.sources.options import add_input_arguments

    parser = _Parser(
        prog="rackfocus", description="Thin-lens depth of field and rack focus for RGB-D images."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    render = sub.add_parser("render", help="render an RGB-D image with depth of field")
    add_input_arguments(render)
    add_lens_arguments(render)
    render.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output .png (8-bit sRGB), .exr/.tif/.npy (float linear)",
    )

    demo = sub.add_parser("demo", help="render the built-in scene (no input files needed)")
    demo.add_argument(
        "-o",
        "--output",
        default="rackfocus-demo",
        metavar="DIR",
        help="output folder (default rackfocus-demo)",
    )
    demo.add_argument(
        "--size", default="960x540", metavar="WxH", help="frame size (default 960x540)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "render":
            from realtime.render import render_command

            return render_command(args)
        if args.command == "demo":
            from realtime.demo import demo_command

            return demo_command(args)
    except InputError as exc:
        sys.stderr.write(f"rackfocus: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("rackfocus: interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
