"""Writing images in strips (realtime.outputs.strips): the pixels write_image writes."""

from __future__ import annotations

import warnings
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from realtime.outputs.images import write_image
from realtime.outputs.strips import _srgb_codes_exact, srgb_codes, write_image_bands
from realtime.sources.images import load_color


@pytest.mark.parametrize("ext", ["png", "exr", "tif", "npy"])
def test_strip_writers_write_the_pixels_write_image_writes(ext: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rgb = rng.uniform(-0.2, 3.0, (45, 37, 3)).astype(np.float32)
    rgb[5, 6, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        write_image(tmp_path / f"whole.{ext}", rgb)
    bands = ((y, rgb[y : y + 7]) for y in range(0, 45, 7))
    with pytest.warns(RuntimeWarning, match="1 pixels were NaN"):
        write_image_bands(tmp_path / f"bands.{ext}", (37, 45), bands)
    if ext == "png":
        a, b = (iio.imread(tmp_path / f"{n}.png") for n in ("whole", "bands"))
    else:
        a, b = (load_color(tmp_path / f"{n}.{ext}") for n in ("whole", "bands"))
    np.testing.assert_array_equal(a, b)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_srgb_code_table_gives_the_exact_codes() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate(
        [rng.uniform(-0.1, 1.2, 10**6), np.geomspace(1e-12, 1.0, 10**5), [0.0, -0.0, 1.0, 1e30]]
    ).astype(np.float32)
    np.testing.assert_array_equal(srgb_codes(x), _srgb_codes_exact(x).astype(np.uint8))
