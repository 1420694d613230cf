"""`rackfocus info FILE`: what a photo carries (colour, depth, lens, orientation).

    rackfocus info IMG_0042.heic

Prints the container, the colour's and the depth's sizes, how the depth's stored
values become metres and their range, what the EXIF says about the lens, the
orientation, and the lens `render` would use without lens options. A plain image
says that it carries no depth; a missing or unreadable file is one line, exit 2.
"""

from __future__ import annotations

import argparse

from realtime.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "info", help="show what a photo carries: colour, depth and its range, lens, orientation"
    )
    parser.add_argument("file", metavar="FILE", help="a photo (HEIC, JPEG, EXR, PNG, ...)")
    parser.set_defaults(run=run)


def _size(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from realtime.options import lens_from_args
    from realtime.sources.images import check_file, load_color
    from realtime.sources.photos import exif_of, has_embedded_depth, read_photo

    p = check_file(args.file)
    lines = [str(p)]
    has_depth = has_embedded_depth(p)
    if has_depth:
        photo = read_photo(p)
        lens, orientation = photo.lens, photo.orientation
        depth = photo.depth_m
        valid = depth[np.isfinite(depth)]
        if valid.size == 0:
            raise InputError(f"{p}: the depth image holds no valid depth")
        lines += [
            f"  container:   {photo.container}",
            f"  colour:      {_size(photo.color.shape)}",
            f"  depth:       {_size(depth.shape)}, {valid.min():.4g}..{valid.max():.4g} m "
            f"({100 * valid.size / depth.size:.1f}% valid)",
            f"  convention:  {photo.convention}",
        ]
    else:
        color = load_color(p, keep_integers=True)
        lens, orientation = exif_of(p)
        lines += [
            f"  colour:      {_size(color.shape)}",
            "  depth:       none (the file carries no depth; render it with --depth)",
        ]
    if lens is None:
        lines.append("  lens:        no EXIF")
    else:
        facts = [
            f"{lens.focal_length_mm:g} mm" if lens.focal_length_mm else None,
            f"f/{lens.f_number:g}" if lens.f_number else None,
            f"{lens.focal_length_35mm_mm:g} mm in 35 mm film"
            if lens.focal_length_35mm_mm
            else None,
        ]
        lines.append(f"  lens:        {', '.join(f for f in facts if f) or 'no focal length'}")
        for label, text in (("camera", lens.camera), ("lens model", lens.lens_model)):
            if text:
                lines.append(f"  {label + ':':<12} {text}")
    note = " (as stored)" if orientation == 1 else " (applied to colour and depth)"
    lines.append(f"  orientation: {orientation}{note if has_depth else ''}")
    options = argparse.Namespace(focus=1.0, blur=None, max_coc=None, blades=0, blade_rotation=0.0)
    rendered = lens_from_args(options, photo=lens if has_depth else None)
    lines.append(
        f"  render lens: {rendered.focal_length_mm:g} mm at f/{rendered.f_number:g} on a "
        f"{rendered.sensor_width_mm:g} mm sensor (without --focal-length/--f-number/"
        "--sensor-width)"
    )
    print("\n".join(lines))
    return 0
