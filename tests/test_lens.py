"""The thin-lens model, checked with numpy alone (no GL)."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.errors import InputError
from realtime.lens import MAX_COC_LIMIT_PX, Lens


def test_coc_matches_the_thin_lens_formula() -> None:
    lens = Lens(focal_length_mm=50.0, f_number=2.0, sensor_width_mm=36.0, focus_m=2.0)
    width = 1920
    f = 0.050
    aperture = f / 2.0
    for z in (0.5, 1.0, 3.0, 10.0, 100.0):
        sensor_m = aperture * f * abs(z - 2.0) / (z * (2.0 - f))
        expected = sensor_m / 0.036 * width
        assert abs(float(lens.coc_px(z, width))) == pytest.approx(expected, rel=1e-9)  # no clamp


def test_coc_sign_and_zero_at_focus() -> None:
    lens = Lens(focus_m=3.0, max_coc_px=1000.0)
    assert float(lens.coc_px(3.0, 1000)) == pytest.approx(0.0, abs=1e-12)
    assert float(lens.coc_px(1.0, 1000)) < 0.0  # in front of the focal plane
    assert float(lens.coc_px(9.0, 1000)) > 0.0  # behind it


def test_coc_is_affine_in_inverse_depth_and_matches_the_shader_uniforms() -> None:
    lens = Lens(focal_length_mm=85.0, f_number=1.4, focus_m=2.5, max_coc_px=1e9)
    z = np.array([0.3, 0.9, 2.5, 7.0, 1e6])
    scale, bias = lens.coc_scale_bias(1280)
    assert np.allclose(lens.coc_px(z, 1280), bias + scale / z)
    assert float(lens.coc_px(1e12, 1280)) == pytest.approx(bias, rel=1e-6)  # limit at infinity


def test_coc_grows_with_width_and_aperture() -> None:
    lens = Lens(f_number=2.0, focus_m=2.0)
    assert float(lens.coc_px(10.0, 2000)) == pytest.approx(2 * float(lens.coc_px(10.0, 1000)))
    wide = Lens(f_number=1.0, focus_m=2.0)
    assert float(wide.coc_px(10.0, 500)) == pytest.approx(2 * float(lens.coc_px(10.0, 500)))


def test_clamp_to_max_coc() -> None:
    lens = Lens(f_number=1.0, focus_m=5.0, max_coc_px=20.0)
    assert float(lens.coc_px(0.2, 4000)) == -20.0
    assert lens.clamp_px == 20.0
    assert Lens(max_coc_px=1e9).clamp_px == Lens().clamp_px == MAX_COC_LIMIT_PX  # the chain's bound


def test_largest_coc_over_a_depth_range() -> None:
    lens = Lens(focal_length_mm=85.0, f_number=1.4, focus_m=1.5)
    z = np.linspace(0.5, 9.0, 1000)
    assert lens.largest_coc_px((0.5, 9.0), 3840) == pytest.approx(
        np.abs(lens.coc_px(z, 3840)).max()
    )
    # the portrait: a wall at 9 m behind a subject at 1.5 m, 3840 wide: about 320 px
    assert float(lens.coc_px(9.0, 3840)) == pytest.approx(320, abs=15)
    assert lens.largest_coc_px((1.5, float("inf")), 3840) == pytest.approx(
        lens.coc_scale_bias(3840)[1]
    )


def test_artistic_mode_sets_the_blur_at_infinity() -> None:
    lens = Lens(artistic_blur_px=30.0, focus_m=2.0, max_coc_px=100.0)
    assert float(lens.coc_px(1e12, 640)) == pytest.approx(30.0)
    assert float(lens.coc_px(1e12, 1920)) == pytest.approx(30.0)  # pixels of the output
    assert float(lens.coc_px(4.0, 640)) == pytest.approx(15.0)  # 30 * (1 - 2/4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"f_number": 0.0},
        {"f_number": -1.0},
        {"focal_length_mm": 0.0},
        {"sensor_width_mm": -36.0},
        {"focus_m": 0.05},  # at the focal length
        {"focus_m": 0.01},  # inside it
        {"max_coc_px": 0.0},
        {"blades": 2},
        {"artistic_blur_px": -1.0},
        {"f_number": float("nan")},
    ],
)
def test_bad_lens_values_raise_input_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(InputError):
        Lens(**kwargs)  # type: ignore[arg-type]
