"""The `rackfocus render` contract: outputs by extension, exit 2 with one line on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from realtime.cli import main
from realtime.sources.images import linear_to_srgb, load_color

DATA = Path(__file__).parent / "data"
TUM = [
    "--rgb",
    str(DATA / "tum/color.png"),
    "--depth",
    str(DATA / "tum/depth.png"),
    "--depth-scale",
    "0.0002",
]


@pytest.fixture
def pair(tmp_path: Path) -> list[str]:
    """A small float RGB-D pair as .npy files."""
    color = np.zeros((40, 60, 3), np.float32)
    color[20, 30] = 50.0  # a highlight far above 1.0
    depth = np.full((40, 60), 4.0, np.float32)
    np.save(tmp_path / "c.npy", color)
    np.save(tmp_path / "d.npy", depth)
    return ["--rgb", str(tmp_path / "c.npy"), "--depth", str(tmp_path / "d.npy")]


def test_npy_in_npy_out_is_linear_and_unclipped(pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "o.npy"
    assert main(["render", *pair, "--focus", "2", "--f-number", "1.4", "-o", str(out)]) == 0
    image = np.load(out)
    assert image.shape == (40, 60, 3) and image.dtype == np.float32
    assert image.sum() == pytest.approx(150.0, rel=0.03)  # the highlight's energy, all channels


@pytest.fixture(scope="module")
def tum_linear(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """The TUM render the format test writes, as float32 linear RGB (.npy keeps it exactly)."""
    out = tmp_path_factory.mktemp("tum") / "tum.npy"
    assert main(["render", *TUM, "--focus", "1.2", "-o", str(out)]) == 0
    image = np.load(out)
    source = load_color(DATA / "tum/color.png")
    assert image.shape == source.shape == (480, 640, 3) and np.isfinite(image).all()
    # Focus at 1.2 m lies in front of the whole scene (1.5 m and beyond): every part is
    # blurred, so fine detail drops while the light is only moved, not lost.
    assert image.mean() == pytest.approx(source.mean(), rel=0.01)
    assert detail(image) < 0.7 * detail(source)
    return image


def detail(image: np.ndarray) -> float:
    """Mean absolute difference between horizontal neighbours: falls as an image blurs."""
    return float(np.abs(np.diff(image, axis=1)).mean())


@pytest.mark.parametrize("ext", ["png", "exr", "tif"])
def test_render_writes_each_format(ext: str, tmp_path: Path, tum_linear: np.ndarray) -> None:
    """Each format holds the same picture: float formats exactly, PNG to its 8-bit sRGB code."""
    out = tmp_path / f"tum.{ext}"
    assert main(["render", *TUM, "--focus", "1.2", "-o", str(out)]) == 0
    if ext == "png":
        codes = iio.imread(out)
        assert codes.shape == tum_linear.shape and codes.dtype == np.uint8
        exact = linear_to_srgb(np.clip(tum_linear, 0.0, 1.0)) * 255
        assert np.abs(codes - exact).max() <= 0.5 + 1e-3  # rounded to the nearest code
    else:
        np.testing.assert_array_equal(load_color(out), tum_linear)


def run_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "realtime", *args], capture_output=True, text=True)


def render_args(rgb: Path | str, depth: Path | str, *extra: str) -> list[str]:
    """`rackfocus render` arguments for a colour/depth pair."""
    return ["render", "--rgb", str(rgb), "--depth", str(depth), *extra]


TUM_DEPTH = DATA / "tum/depth.png"
TUM_SCALE = ("--depth-scale", "0.0002")


def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    out = ("-o", str(tmp_path / "o.png"))
    result = run_cli(
        render_args(tmp_path / "missing.png", TUM_DEPTH, *TUM_SCALE, "--focus", "2", *out)
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert "missing.png" in result.stderr
    assert not (tmp_path / "o.png").exists()


def bad_cases(tmp_path: Path) -> dict[str, list[str]]:
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_text("not an image")
    small = tmp_path / "small.npy"
    np.save(small, np.ones((10, 10), np.float32))
    out = ["-o", str(tmp_path / "o.png")]
    return {
        "missing file": render_args(
            tmp_path / "nope.png", TUM_DEPTH, *TUM_SCALE, "--focus", "2", *out
        ),
        "corrupt file": render_args(corrupt, TUM_DEPTH, *TUM_SCALE, "--focus", "2", *out),
        "size mismatch": render_args(DATA / "tum/color.png", small, "--focus", "2", *out),
        "focus inside focal length": ["render", *TUM, "--focus", "0.04", *out],
        "zero f-number": ["render", *TUM, "--focus", "2", "--f-number", "0", *out],
        "negative f-number": ["render", *TUM, "--focus", "2", "--f-number", "-2", *out],
        "unknown option value": ["render", *TUM, "--focus", "2", "--blades", "2", *out],
        "not a number": ["render", *TUM, "--focus", "two", *out],
        "integer depth without scale": render_args(
            DATA / "tum/color.png", TUM_DEPTH, "--focus", "2", *out
        ),
        "unknown output format": ["render", *TUM, "--focus", "2", "-o", str(tmp_path / "o.gif")],
        "missing focus": ["render", *TUM, *out],
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "corrupt file",
        "size mismatch",
        "focus inside focal length",
        "zero f-number",
        "negative f-number",
        "unknown option value",
        "not a number",
        "integer depth without scale",
        "unknown output format",
        "missing focus",
    ],
)
def test_bad_input_exits_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = bad_cases(tmp_path)[case]
    with pytest.raises(SystemExit) as raised:
        sys.exit(main(args))
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o.png").exists()


def test_missing_gl_stack_names_the_packages(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "GLCONTEXT_LINUX_LIBEGL": str(tmp_path / "libEGL.so.1")}
    args = ["render", *TUM, "--focus", "2", "-o", str(tmp_path / "o.png")]
    result = subprocess.run(
        [sys.executable, "-m", "realtime", *args], capture_output=True, text=True, env=env
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "libegl1 libegl-mesa0 libgl1-mesa-dri" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_clamp_that_cuts_the_blur_says_so_once(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """TUM at 135 mm f/1.4 focused at 1.5 m: the far wall (9.3 m) blurs to 142 px. The
    default follows the lens (no word); --max-coc 64 cuts it, and one line says by how much."""
    lens = ["--focal-length", "135", "--f-number", "1.4", "--focus", "1.5"]
    assert main(["render", *TUM, *lens, "-o", str(tmp_path / "a.npy")]) == 0
    assert capsys.readouterr().err == ""
    assert main(["render", *TUM, *lens, "--max-coc", "64", "-o", str(tmp_path / "b.npy")]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "--max-coc" in lines[0] and "to 64 px" in lines[0]
    largest = int(lines[0].split(" from ")[1].split(" px")[0])
    assert largest == 142
