"""Focus picked from the picture: `render --focus-at X,Y` (pixels or fractions) and
`--focus auto` (the nearest subject), on a still with a near square at a known depth."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from realtime.cli import build_parser, main
from realtime.focus import FractionTarget, NearTarget, PixelTarget, resolve_target
from realtime.options import focus_target_from_args, parse_focus_at
from realtime.sources.images import load_color

SIZE = (64, 48)  # width, height
SQUARE = (slice(10, 31), slice(10, 31))  # rows, columns of the near square
NEAR_M, FAR_M = 1.0, 4.0
INSIDE = (slice(15, 26), slice(15, 26))  # the square less a margin where the background blurs
SHARP_TOLERANCE = 0.01  # linear; an in-focus pixel is its input up to the chain's rounding


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    """A textured colour PNG and a float depth .npy: background at FAR_M, square at NEAR_M."""
    folder = tmp_path_factory.mktemp("still")
    rng = np.random.default_rng(7)
    color = rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    depth = np.full((SIZE[1], SIZE[0]), FAR_M, np.float32)
    depth[SQUARE] = NEAR_M
    depth[20, 20] = np.nan  # a hole under the picked pixel: the median window skips it
    iio.imwrite(folder / "c.png", color)
    np.save(folder / "d.npy", depth)
    return folder / "c.png", folder / "d.npy", depth


def render(still: tuple[Path, Path, np.ndarray], out: Path, *focus: str) -> int:
    rgb, depth, _ = still
    args = ["render", "--rgb", str(rgb), "--depth", str(depth), "--f-number", "1.4"]
    return main([*args, *focus, "-o", str(out)])


def target_of(*argv: str) -> object:
    args = build_parser().parse_args(["render", "--rgb", "c.png", "--depth", "d.npy", *argv])
    return focus_target_from_args(args)


def test_pixel_and_fraction_rules() -> None:
    assert parse_focus_at("20,20") == PixelTarget(20, 20)
    assert parse_focus_at("0.3, 0.4") == FractionTarget(0.3, 0.4)
    assert parse_focus_at("1.0,0") == FractionTarget(1.0, 0.0)  # one '.' makes both fractions
    assert parse_focus_at("1,1") == PixelTarget(1, 1)
    assert target_of("--focus", "auto") == NearTarget()
    assert target_of("--focus", "2") is None


@pytest.mark.parametrize("at", ["20,20", "0.3,0.4"])  # 0.3 x 64 = 19.2, 0.4 x 48 = 19.2
def test_focus_at_lands_on_the_square_and_keeps_it_sharp(
    still: tuple[Path, Path, np.ndarray], tmp_path: Path, at: str
) -> None:
    target = target_of("--focus-at", at)
    assert resolve_target(target, still[2]) == NEAR_M  # type: ignore[arg-type]
    out = tmp_path / "o.npy"
    assert render(still, out, "--focus-at", at) == 0
    image, source = np.load(out), load_color(still[0])
    assert np.abs(image[INSIDE] - source[INSIDE]).max() < SHARP_TOLERANCE
    background = (slice(36, 48), slice(40, 64))
    assert np.abs(image[background] - source[background]).mean() > 10 * SHARP_TOLERANCE


def test_focus_auto_focuses_on_the_nearest_subject(
    still: tuple[Path, Path, np.ndarray], tmp_path: Path
) -> None:
    assert resolve_target(NearTarget(), still[2]) == NEAR_M
    out = tmp_path / "o.npy"
    assert render(still, out, "--focus", "auto") == 0
    image, source = np.load(out), load_color(still[0])
    assert np.abs(image[INSIDE] - source[INSIDE]).max() < SHARP_TOLERANCE


@pytest.mark.parametrize(
    ("focus", "words"),
    [
        (["--focus-at", "64,10"], "outside the 64x48"),
        (["--focus-at", "1.5,0.2"], "0..1"),
        (["--focus-at", "12.5,3"], "0..1"),
        (["--focus-at", "a,3"], "whole numbers"),
        (["--focus-at", "3"], "X,Y"),
        (["--focus-at", "20,20", "--focus", "2"], "--focus-at and --focus"),
        (["--focus-at", "20,20", "--rack", "1:3", "--duration", "1"], "--focus-at and --rack"),
    ],
)
def test_bad_focus_at_is_one_line(
    still: tuple[Path, Path, np.ndarray],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    focus: list[str],
    words: str,
) -> None:
    out = tmp_path / ("o.mp4" if "--rack" in focus else "o.npy")
    assert render(still, out, *focus) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert not out.exists()


def test_bad_focus_value_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["render", "--focus", "near"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "auto" in err[0]


def test_cue_pixel_keys_take_fractions(tmp_path: Path) -> None:
    """`pixel = [0.3, 0.4]` (a decimal point) is fractions, `pixel = [20, 20]` pixels."""
    from realtime.cues import CueError, load_cues

    (tmp_path / "c.png").write_bytes(b"")
    (tmp_path / "d.npy").write_bytes(b"")
    head = '[input]\nrgb = "c.png"\ndepth = "d.npy"\n\n[[focus]]\ntime = 0.0\n'
    depth = np.full((48, 64), FAR_M, np.float32)
    depth[SQUARE] = NEAR_M
    for pixel in ("[0.3, 0.4]", "[20, 20]", "[0.3, 1]"):
        path = tmp_path / "cues.toml"
        path.write_text(head + f"pixel = {pixel}\n", encoding="utf-8")
        cues = load_cues(path)
        expected = FractionTarget if "." in pixel else PixelTarget
        assert isinstance(cues.focus[0].target, expected)
        if pixel != "[0.3, 1]":
            assert cues.focus_track(depth).focus_at(0.0) == NEAR_M
    path.write_text(head + "pixel = [0.5, 1.5]\n", encoding="utf-8")
    with pytest.raises(CueError, match="0..1"):
        load_cues(path)
