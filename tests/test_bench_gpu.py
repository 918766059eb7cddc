"""bench/gpu.py end to end on the CPU with the tiny preset and the smallest settings: every section runs and the
JSON holds what the GPU run will report (timings here say nothing: this checks the script, not the machine)."""

import json
import subprocess
import sys

import pytest

from support.paths import REPO as ROOT


def test_gpu_bench_runs_every_section_on_the_cpu(tmp_path):
    command = [sys.executable, str(ROOT / "bench" / "gpu.py"), "--device", "cpu", "--preset", "tiny", "--sizes",
               "32x32", "--frames", "2", "--steps", "2", "--short-steps", "1", "--reps", "1", "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "gpu_bench.json").read_text())
    assert set(result) == {"meta", "measurements", "skipped", "errors"}
    assert result["errors"] == [] and result["skipped"] == []
    meta = result["meta"]
    assert {"command", "device", "peak_tflops", "torch", "diffusers", "preset", "dtypes", "sizes", "frames", "steps",
            "total_s"} <= set(meta)
    assert meta["preset"] == "tiny" and meta["peak_tflops"] is None  # no MFU on the CPU
    by = {(r["section"], r["variant"]): r for r in result["measurements"]}
    expected = {
        ("build", "tiny random weights"), ("flops", "ab"), ("flops", "single"),
        ("unet", "ab"), ("unet", "ab_plain"), ("unet", "ab_branch_everywhere"), ("unet", "single"),
        ("unet", "single_plain"), ("unet", "ab_identity_share"), ("unet", "single_identity_share"),
        ("pipeline", "ab"), ("pipeline", "single"), ("pipeline", "ab unet_batch_size=2"),
        ("pipeline", "ab unet_batch_size=1"), ("offload", "ab model_cpu_offload"), ("compile", "ab"),
        ("temporal", "context broadcast, ab"),
    }
    assert expected <= set(by), expected - set(by)
    assert by["flops", "ab"]["flops_per_step"] > by["flops", "single"]["flops_per_step"] > 0
    for key in [k for k in by if k[0] in ("pipeline", "offload", "compile")]:
        record = by[key]
        assert "error" not in record, record
        assert record["seconds"] > 0 and record["step_s"] > 0 and record["seconds_per_video"] > 0
        assert "peak_vram_gib" in record and "mfu" in record
    assert by["pipeline", "ab unet_batch_size=1"]["seconds_full_est"] > 0  # a short run, extrapolated
    assert by["compile", "ab"]["compile_s"] is not None and by["compile", "ab"]["max_abs_diff"] <= 1  # 8-bit levels
    assert 0 <= by["unet", "ab"]["step_s"] and "identity_share" in by["unet", "ab_identity_share"]
    temporal = by["temporal", "context broadcast, ab"]
    assert temporal["extra_mib_copied_per_unet"] > 0 and temporal["levels"]
    assert "[gpu bench]" in done.stdout and "identity share" in done.stdout

    # the ZeroGPU request takes its rates from this file: the measured A/B run, x1.5 (dancegen.app.gpu_time)
    from dancegen.app.gpu_time import MEASURED_MARGIN, request_for, with_measured_rates
    from dancegen.config import GenerationSettings, ServeConfig

    config = with_measured_rates(ServeConfig(gpu_bench=str(tmp_path / "gpu_bench.json"), gpu_s_per_frame=0.0))
    assert config.gpu_s_per_frame_step != ServeConfig().gpu_s_per_frame_step
    ab = by["pipeline", "ab"]
    width, height = (int(v) for v in ab["size"].split("x"))
    one_a_second = GenerationSettings(fps=1.0, output_fps=1.0)  # a frame per second of music, none in between
    asked = request_for(config, (width, height), one_a_second, ab["steps"], seconds=meta["frames"])
    assert asked.per_music_s * meta["frames"] == pytest.approx(MEASURED_MARGIN * ab["seconds"], rel=1e-6)


def test_a_benchmark_file_that_cannot_give_rates_is_one_line(tmp_path):
    from dancegen.app.gpu_time import with_measured_rates
    from dancegen.config import ServeConfig
    from dancegen.errors import SettingsError

    with pytest.raises(SettingsError, match="cannot read the GPU benchmark result"):
        with_measured_rates(ServeConfig(gpu_bench=str(tmp_path / "missing.json")))
    path = tmp_path / "gpu_bench.json"
    path.write_text(json.dumps({"meta": {"frames": 16}, "measurements": [{"section": "unet", "variant": "ab"}]}))
    with pytest.raises(SettingsError, match="no A/B pipeline run"):
        with_measured_rates(ServeConfig(gpu_bench=str(path)))
