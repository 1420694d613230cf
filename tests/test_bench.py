"""`rackfocus bench` runs end to end and writes the JSON the issue specifies."""

from __future__ import annotations

import json
from pathlib import Path

from realtime.cli import main


def test_bench_writes_json_with_the_required_keys(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "--size", "160x90", "--max-coc", "8", "--max-coc", "16", "--repeat", "1"]
    assert main([*args, "--samples", "8", "--no-quality", "--no-rack", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert "llvmpipe" in report["renderer"] or report["renderer"]
    assert [(c["width"], c["height"], c["max_coc"]) for c in report["cases"]] == [
        (160, 90, 8.0),
        (160, 90, 16.0),
    ]
    for case in report["cases"]:
        for key in ("pipeline_ms", "floor_ms", "brute_ms", "psnr", "brute_psnr"):
            assert case[key] > 0, key
    for name in ("conditioning", "upsampling"):
        (row,) = report[name]
        assert (row["width"], row["height"]) == (160, 90) and row[f"{name}_ms"] > 0


def test_bench_rejects_bad_sizes(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["bench", "--size", "huge"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
