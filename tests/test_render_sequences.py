"""`rackfocus render` clips: racks, image sequences in and out, chunks, resume, interrupts.

The scene is two flat textured subjects side by side: a checkerboard at 1 m on the
left, stripes at 4 m on the right, 160x90, rendered with an 85 mm f/1.4 lens so
that the subject out of focus is blurred by 15-20 px.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from realtime import batch, frameloop
from realtime.cli import main
from realtime.focus import rack
from realtime.lens import Lens
from realtime.outputs import images as writers
from realtime.outputs.sequence import SequenceWriter
from realtime.sources.depth import DepthConvention
from realtime.sources.frames import numbered_files, open_frames, resize_color

W, H = 160, 90
NEAR_M, FAR_M = 1.0, 4.0
LENS = ["--focal-length", "85", "--f-number", "1.4"]
MARGIN = 24  # px kept clear of the depth edge and the frame border when judging a subject
NEAR_BOX = (slice(MARGIN // 2, H - MARGIN // 2), slice(MARGIN // 2, W // 2 - MARGIN))
FAR_BOX = (slice(MARGIN // 2, H - MARGIN // 2), slice(W // 2 + MARGIN, W - MARGIN // 2))


def scene(shift: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Colour (linear) and depth (metres) of the two-subject scene; `shift` slides the textures.

    The textures are 2x2-pixel blocks of noise: broadband, so that their detail falls
    steadily as the blur grows (a periodic texture's contrast under a disc blur does not).
    """
    rng = np.random.default_rng(7)
    noise = rng.random((H // 2, W // 2 + 8)).astype(np.float32)
    noise = np.repeat(np.repeat(noise, 2, axis=0), 2, axis=1)
    noise = np.roll(noise, shift, axis=1)[:, :W]
    x = np.arange(W)[None, :].repeat(H, axis=0)
    near = np.stack([0.1 + 0.8 * noise, 0.2 + 0 * noise, 0.1 + 0.3 * noise], -1)
    mirrored = noise[:, ::-1]
    far = np.stack([0.1 + 0 * mirrored, 0.1 + 0.8 * mirrored, 0.6 * mirrored], -1)
    color = np.where((x < W // 2)[..., None], near, far).astype(np.float32)
    depth = np.where(x < W // 2, NEAR_M, FAR_M).astype(np.float32)
    return color, depth


@pytest.fixture
def pair(tmp_path: Path) -> list[str]:
    color, depth = scene()
    np.save(tmp_path / "c.npy", color)
    np.save(tmp_path / "d.npy", depth)
    return ["--rgb", str(tmp_path / "c.npy"), "--depth", str(tmp_path / "d.npy")]


def render(*args: str) -> None:
    assert main(["render", *args]) == 0


def still(pair: list[str], focus: float, out: Path) -> np.ndarray:
    render(*pair, *LENS, "--focus", str(focus), "-o", str(out))
    return np.load(out)


def detail(image: np.ndarray) -> float:
    """Mean absolute horizontal gradient: high when the texture is sharp."""
    return float(np.abs(np.diff(image, axis=1)).mean())


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- focus over a rack ------------------------------------------------------------------------


def test_rack_hits_both_ends_and_moves_monotonically(tmp_path: Path) -> None:
    from realtime.pipeline import Compositor

    color, depth = scene()
    np.save(tmp_path / "c.npy", color)
    np.save(tmp_path / "d.npy", depth)
    source = open_frames(tmp_path / "c.npy", tmp_path / "d.npy", DepthConvention.metric())
    fps, count = 12.0, 12
    lens = Lens(focal_length_mm=85, f_number=1.4, focus_m=NEAR_M)
    shot = batch.Shot(source, lens, rack(NEAR_M, FAR_M, (count - 1) / fps), fps)
    writer = SequenceWriter(tmp_path / "f" / "f_%02d.npy")
    # A context of its own, like the CLI's: the session fixture's can carry GL state from the
    # tests before (a GL_INVALID_OPERATION left by test_preview + test_groundtruth, here).
    stats = batch.render_frames(shot, writer, range(count), Compositor())
    assert stats.frames == list(range(count)) and stats.rendered == count
    assert stats.focus_m[0] == NEAR_M and stats.focus_m[-1] == FAR_M  # exactly
    assert all(np.diff(stats.focus_m) > 0)
    frames = [np.load(writer.frame_path(k)) for k in range(count)]
    near = [detail(f[NEAR_BOX]) for f in frames]
    far = [detail(f[FAR_BOX]) for f in frames]
    tol = 1e-3  # gather noise at large blur; the detail itself falls by a factor > 20
    assert all(b <= a + tol for a, b in zip(near, near[1:], strict=False)), near
    assert all(b >= a - tol for a, b in zip(far, far[1:], strict=False)), far
    assert near[0] > 5 * near[-1] and far[-1] > 5 * far[0]


def test_rack_ends_sharp_on_its_subject(pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "rack" / "r_%03d.npy"
    render(
        *pair,
        *LENS,
        "--rack",
        f"{NEAR_M}:{FAR_M}",
        "--duration",
        "1",
        "--fps",
        "10",
        "-o",
        str(out),
    )
    assert files(out.parent) == [f"r_{k:03d}.npy" for k in range(10)]
    first, last = np.load(str(out) % 0), np.load(str(out) % 9)
    near_still = still(pair, NEAR_M, tmp_path / "near.npy")
    far_still = still(pair, FAR_M, tmp_path / "far.npy")
    color, _ = scene()
    # The last frame is focused on the far subject: as sharp as the in-focus still ...
    assert np.abs(last[FAR_BOX] - far_still[FAR_BOX]).max() <= 1 / 255
    assert np.abs(last[FAR_BOX] - color[FAR_BOX]).max() <= 1 / 255
    # ... and the near subject is blurred.
    assert detail(last[NEAR_BOX]) < 0.2 * detail(color[NEAR_BOX])
    # The first frame is the near still.
    assert np.abs(first[NEAR_BOX] - near_still[NEAR_BOX]).max() <= 1 / 255
    assert detail(first[FAR_BOX]) < 0.2 * detail(color[FAR_BOX])


# --- chunks and resume ------------------------------------------------------------------------


def rack_args(pair: list[str]) -> list[str]:
    return [*pair, *LENS, "--rack", "1:4", "--duration", "1", "--fps", "10"]


def test_chunks_equal_a_whole_render_byte_for_byte(pair: list[str], tmp_path: Path) -> None:
    whole = tmp_path / "whole" / "o_%04d.png"
    chunks = tmp_path / "chunks" / "o_%04d.png"
    render(*rack_args(pair), "-o", str(whole))
    render(*rack_args(pair), "-o", str(chunks), "--frames", "5-9")
    render(*rack_args(pair), "-o", str(chunks), "--frames", "0-4")
    names = [f"o_{k:04d}.png" for k in range(10)]
    assert files(whole.parent) == names and files(chunks.parent) == names
    for name in names:
        assert (whole.parent / name).read_bytes() == (chunks.parent / name).read_bytes(), name


def test_resume_skips_frames_that_exist(
    pair: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "seq" / "o_%04d.png"
    render(*rack_args(pair), "-o", str(out))
    before = {k: Path(str(out) % k).read_bytes() for k in range(10)}
    for k in (3, 7):
        Path(str(out) % k).unlink()
    old = 1_000_000_000
    for k in range(10):
        if k not in (3, 7):
            os.utime(str(out) % k, ns=(old, old))
    capsys.readouterr()
    render(*rack_args(pair), "-o", str(out), "--resume", "--stats")
    report = capsys.readouterr().out
    assert "2 frames" in report and "8 skipped" in report
    for k in range(10):
        path = Path(str(out) % k)
        assert path.read_bytes() == before[k]
        assert (path.stat().st_mtime_ns == old) == (k not in (3, 7))


# --- interrupts ------------------------------------------------------------------------------


def test_interrupt_in_the_frame_loop_leaves_only_whole_frames(
    pair: list[str], tmp_path: Path, interrupt_at_readback
) -> None:
    interrupt_at_readback(4)
    out = tmp_path / "seq" / "o_%04d.png"
    assert main(["render", *rack_args(pair), "-o", str(out)]) == 130
    assert files(out.parent) == ["o_0000.png", "o_0001.png", "o_0002.png"]
    for k in range(3):
        assert iio.imread(str(out) % k).shape == (H, W, 3)


def test_interrupt_while_writing_a_frame_leaves_no_partial_file(
    pair: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writers.WRITERS[".png"]
    calls = 0

    def half_then_interrupt(path: str, rgb: np.ndarray) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            Path(path).write_bytes(b"\x89PNG half a file")
            raise KeyboardInterrupt
        real(path, rgb)

    monkeypatch.setitem(writers.WRITERS, ".png", half_then_interrupt)
    out = tmp_path / "seq" / "o_%04d.png"
    assert main(["render", *rack_args(pair), "-o", str(out)]) == 130
    assert files(out.parent) == ["o_0000.png", "o_0001.png"]


# --- sequence inputs -------------------------------------------------------------------------


@pytest.fixture
def sequences(tmp_path: Path) -> tuple[Path, Path]:
    """Six frames of moving texture: 8-bit sRGB PNGs and 16-bit millimetre depth PNGs, 1-based."""
    from realtime.sources.images import linear_to_srgb

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        color, depth = scene(shift=i)
        codes = np.rint(linear_to_srgb(color) * 255).astype(np.uint8)
        iio.imwrite(folder / f"rgb_{i + 1:04d}.png", codes)
        iio.imwrite(folder / f"depth_{i + 1:04d}.png", np.rint(depth * 1000).astype(np.uint16))
    return folder / "rgb_%04d.png", folder / "depth_%04d.png"


def seq_args(rgb: Path | str, depth: Path | str) -> list[str]:
    return ["--rgb", str(rgb), "--depth", str(depth), "--depth-scale", "0.001", *LENS]


def test_numbered_and_glob_sequences_render_frame_for_frame(
    sequences: tuple[Path, Path], tmp_path: Path
) -> None:
    rgb, depth = sequences
    out = tmp_path / "out" / "o_%02d.npy"
    render(*seq_args(rgb, depth), "--focus", "1", "-o", str(out))  # length from the inputs
    assert files(out.parent) == [f"o_{k:02d}.npy" for k in range(6)]
    globbed = tmp_path / "glob" / "o_%02d.npy"
    render(
        *seq_args(rgb.parent / "rgb_*.png", rgb.parent / "depth_*.png"),
        "--focus",
        "1",
        "-o",
        str(globbed),
    )
    for k in (0, 5):
        frame = np.load(str(out) % k)
        pair_still = tmp_path / f"still{k}.npy"
        render(
            *seq_args(str(rgb) % (k + 1), str(depth) % (k + 1)),
            "--focus",
            "1",
            "-o",
            str(pair_still),
        )
        assert np.array_equal(frame, np.load(pair_still))
        assert np.array_equal(frame, np.load(str(globbed) % k))


def test_short_inputs_stop_the_clip_or_loop(
    sequences: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rgb, depth = sequences
    stop = tmp_path / "stop" / "o_%02d.npy"
    render(*seq_args(rgb, depth), "--focus", "1", "--duration", "1", "--fps", "8", "-o", str(stop))
    assert len(files(stop.parent)) == 6
    assert "rendering 6 of 8" in capsys.readouterr().err
    looped = tmp_path / "loop" / "o_%02d.npy"
    args = ["--focus", "1", "--duration", "1", "--fps", "8", "--loop", "-o", str(looped)]
    render(*seq_args(rgb, depth), *args)
    assert len(files(looped.parent)) == 8
    assert np.array_equal(np.load(str(looped) % 6), np.load(str(looped) % 0))
    assert np.array_equal(np.load(str(looped) % 7), np.load(str(stop) % 1))


def test_numbered_files_sorts_by_number(tmp_path: Path) -> None:
    for n in (9, 10, 11):
        (tmp_path / f"f{n}.png").write_bytes(b"")
    (tmp_path / "f010.png").write_bytes(b"")  # not how %d spells 10
    assert [p.name for p in numbered_files(tmp_path / "f%d.png")] == [
        "f9.png",
        "f10.png",
        "f11.png",
    ]


def test_size_resamples_inputs(pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "small" / "o_%d.npy"
    render(
        *pair,
        *LENS,
        "--focus",
        "1",
        "--duration",
        "0.1",
        "--fps",
        "10",
        "--size",
        "80x45",
        "-o",
        str(out),
    )
    assert np.load(str(out) % 0).shape == (45, 80, 3)
    flat = np.full((90, 160, 3), 0.25, np.float32)
    assert np.allclose(resize_color(flat, 80, 45), 0.25) and np.allclose(
        resize_color(flat, 200, 120), 0.25
    )


def test_still_with_clip_options_renders_one_image(pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "one.npy"
    render(*pair, *LENS, "--focus", "4", "--stats", "-o", str(out))  # through the frame loop
    assert np.array_equal(np.load(out), still(pair, FAR_M, tmp_path / "plain.npy"))


# --- cue files, breathing, progress, stats --------------------------------------------------


def test_cue_file_drives_the_render(pair: list[str], tmp_path: Path) -> None:
    cue = tmp_path / "shot.toml"
    cue.write_text(
        "[lens]\nfocal_length_mm = 85\nf_number = 1.4\n"
        '[input]\nrgb = "c.npy"\ndepth = "d.npy"\n'
        "[[focus]]\ntime = 0.0\ndistance = 1.0\n"
        "[[focus]]\ntime = 0.5\ndistance = 4.0\n"
        '[output]\npath = "cue/o_%02d.npy"\nfps = 8\nduration = 1.0\n'
    )
    render("--cues", str(cue))
    assert files(tmp_path / "cue") == [f"o_{k:02d}.npy" for k in range(8)]
    far_still = still(pair, FAR_M, tmp_path / "far.npy")
    assert np.array_equal(np.load(tmp_path / "cue" / "o_04.npy"), far_still)  # t = 0.5: the key
    assert np.array_equal(np.load(tmp_path / "cue" / "o_07.npy"), far_still)  # held after it


def test_breathing_magnifies_about_the_centre(pair: list[str], tmp_path: Path) -> None:
    image = np.zeros((41, 61, 3), np.float32)
    image[20, 50] = 1.0  # 20 px right of the centre column 30
    assert frameloop.breathe(image, 1.0) is image
    grown = frameloop.breathe(image, 1.1)
    cols = np.nonzero(grown[20, :, 0])[0]
    assert 51 <= np.average(cols, weights=grown[20, cols, 0]) <= 53  # 30 + 20 * 1.1 = 52
    out = tmp_path / "b" / "o_%d.npy"
    render(*rack_args(pair), "--breathing", "1", "--frames", "9", "-o", str(out))
    plain = still(pair, FAR_M, tmp_path / "far.npy")
    scale = 1 + 0.085 / (FAR_M - 0.085)
    assert np.array_equal(np.load(str(out) % 9), frameloop.breathe(plain, scale))


def test_progress_and_stats(
    pair: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p" / "o_%d.png"
    render(*rack_args(pair), "--progress", "--stats", "-o", str(out))
    captured = capsys.readouterr()
    last = captured.err.split("\r")[-1]  # tqdm redraws the line in place
    assert re.search(r"100%.*\| 10/10 \[\d\d:\d\d<00:00, +[\d.]+ frames/s\]", last), last
    for stage in ("gpu", "readback", "encode", "frames/s"):
        assert stage in captured.out
    render(*rack_args(pair), "-o", str(tmp_path / "q" / "o_%d.png"))
    assert capsys.readouterr().err == ""  # stderr is not a terminal here: no progress


# --- bad input: exit 2, one line -----------------------------------------------------------------


def bad_cases(pair: list[str], tmp_path: Path, seqs: tuple[Path, Path]) -> dict[str, list[str]]:
    rgb, depth = seqs
    out = ["-o", str(tmp_path / "bad" / "o_%04d.png")]
    clip = [*pair, *LENS, "--duration", "1", "--fps", "10"]
    return {
        "rack not a number": [*pair, *LENS, "--rack", "2:x", "--duration", "1", *out],
        "rack one value": [*pair, *LENS, "--rack", "2", "--duration", "1", *out],
        "rack inside focal length": [*pair, *LENS, "--rack", "2:0.05", "--duration", "1", *out],
        "rack and focus": [*clip, "--rack", "1:4", "--focus", "2", *out],
        "frames reversed": [*clip, "--focus", "2", "--frames", "5-2", *out],
        "frames not numbers": [*clip, "--focus", "2", "--frames", "a-b", *out],
        "frames past the end": [*clip, "--focus", "2", "--frames", "0-10", *out],
        "negative frames": [*clip, "--focus", "2", "--frames", "-3", *out],
        "zero fps": [*pair, *LENS, "--focus", "2", "--duration", "1", "--fps", "0", *out],
        "bad duration": [*pair, *LENS, "--focus", "2", "--duration", "soon", *out],
        "bad easing": [*clip, "--rack", "1:4", "--easing", "bouncy", *out],
        "bad quality": [*clip, "--focus", "2", "--quality", "11", "-o", str(tmp_path / "o.mp4")],
        "bad size": [*clip, "--focus", "2", "--size", "80", *out],
        "no duration for stills": [*pair, *LENS, "--rack", "1:4", *out],
        "clip into one image": [*clip, "--rack", "1:4", "-o", str(tmp_path / "o.png")],
        "two frame fields": [*clip, "--focus", "2", "-o", str(tmp_path / "o_%d_%d.png")],
        "missing sequence": [*seq_args(tmp_path / "none_%04d.png", depth), "--focus", "2", *out],
        "missing glob": [*seq_args(tmp_path / "none_*.png", depth), "--focus", "2", *out],
        "mismatched lengths": [*seq_args(rgb, depth), "--focus", "2", *out],
        "gap in sequence": [*seq_args(rgb, rgb.parent / "gap_%04d.png"), "--focus", "2", *out],
        "missing rgb": ["--depth", pair[3], *LENS, "--focus", "2", "-o", str(tmp_path / "o.png")],
        "cues with rgb": ["--cues", str(tmp_path / "x.toml"), "--rgb", pair[1], *out],
    }


CASES = [
    "rack not a number",
    "rack one value",
    "rack inside focal length",
    "rack and focus",
    "frames reversed",
    "frames not numbers",
    "frames past the end",
    "negative frames",
    "zero fps",
    "bad duration",
    "bad easing",
    "bad quality",
    "bad size",
    "no duration for stills",
    "clip into one image",
    "two frame fields",
    "missing sequence",
    "missing glob",
    "mismatched lengths",
    "gap in sequence",
    "missing rgb",
    "cues with rgb",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line(
    case: str,
    pair: list[str],
    sequences: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rgb, depth = sequences
    (rgb.parent / "depth_0006.png").unlink()  # depth now has 5 frames, colour 6
    for i in (1, 2, 4):  # a depth sequence with frame 3 missing
        (rgb.parent / f"gap_{i:04d}.png").write_bytes(
            (rgb.parent / f"rgb_{i:04d}.png").read_bytes()
        )
    args = bad_cases(pair, tmp_path, sequences)[case]
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        sys.exit(main(["render", *args]))
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not (tmp_path / "bad").exists() or files(tmp_path / "bad") == []
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.mp4").exists()


def test_bad_rack_from_the_shell(pair: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "realtime",
            "render",
            *pair,
            "--rack",
            "2:x",
            "--duration",
            "1",
            "-o",
            str(tmp_path / "o_%d.png"),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "rackfocus: error: --rack 2:x: TO must be a number"
