"""Converter: a tiny bundle (random weights, real statistics) through the real conversion chain."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from vc.convert.converter import ConversionError, Converter, UnknownSpeakerError
from vc.convert.f0 import LogF0Stats, convert_f0
from vc.convert.synthetic import TINY_NET, random_bundle, speaker_waves
from vc.features import FeatureConfig, analyze
from vc.features.testsignal import speech_like
from vc.vocoder import synthesize

SR = 16000
SPEAKERS = {"low": 100.0, "mid": 150.0, "high": 230.0}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_bundle(tmp_path_factory.mktemp("convert") / "exp" / "tiny", speaker_waves(SPEAKERS, SR),
                         FeatureConfig(sample_rate=SR, mcep_dim=24), net=TINY_NET)


@pytest.fixture(scope="module")
def converter(bundle: Path) -> Converter:
    return Converter.from_bundle(bundle, precision="fp32")  # the exact network: tests check its math


@pytest.fixture(scope="module")
def baseline(bundle: Path) -> Converter:
    return Converter.from_bundle(bundle, baseline="stats")


def test_output_has_input_duration_rate_and_is_finite(bundle: Path, converter: Converter) -> None:
    wave, _ = speech_like(1.37, 22050, 170.0, seed=5)  # another rate: resampled to the model's
    out, sr = converter.convert(wave, 22050, "high")
    assert sr == SR == converter.sample_rate
    assert len(out) == round(len(wave) * SR / 22050)
    assert np.isfinite(out).all() and 0 < np.abs(out).max() <= 0.99
    out44, sr44 = Converter.from_bundle(bundle, out_sr=44100).convert(wave, 22050, "high")
    assert sr44 == 44100 and abs(len(out44) - len(wave) * 44100 / 22050) <= 1


def test_known_source_uses_bundle_statistics(converter: Converter) -> None:
    wave, _ = speech_like(1.0, SR, 100.0, seed=3)
    a = converter.analyze(wave, SR, source="low")
    i = converter.stats.index("low")
    assert not a.estimated
    assert a.lf0 == LogF0Stats(float(converter.stats.lf0_mean[i]), float(converter.stats.lf0_std[i]))
    np.testing.assert_array_equal(a.mcep_mean, converter.stats.mcep_mean[i])


@pytest.mark.parametrize("source", [None, "someone_else"])
def test_unseen_source_statistics_come_from_the_input(converter: Converter, source: str | None,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    wave, _ = speech_like(1.0, SR, 190.0, seed=4)
    caplog.set_level("INFO")
    a = converter.analyze(wave, SR, source=source)
    feats = analyze(wave, converter.feature_config)
    voiced = np.log(feats.f0[feats.f0 > 0].astype(np.float64))
    assert a.estimated and "estimated from the input" in caplog.text
    assert a.lf0.mean == pytest.approx(voiced.mean()) and a.lf0.std == pytest.approx(voiced.std())
    np.testing.assert_allclose(a.mcep_mean, feats.mcep.astype(np.float64).mean(0), rtol=1e-6)
    np.testing.assert_allclose(a.mcep_std, feats.mcep.astype(np.float64).std(0), rtol=1e-6)
    out, _ = converter.convert(wave, SR, "mid", source=source)
    assert len(out) == len(wave) and np.isfinite(out).all()


def test_f0_follows_the_log_gaussian_transform_with_scale(bundle: Path, converter: Converter) -> None:
    wave, _ = speech_like(1.0, SR, 150.0, seed=6)
    a = converter.analyze(wave, SR, source="mid")
    t = converter.stats.index("high")
    tgt = LogF0Stats(float(converter.stats.lf0_mean[t]), float(converter.stats.lf0_std[t]))
    conv = converter.convert_features(a, "high")
    f0 = a.features.f0
    voiced = f0 > 0
    expected = np.exp((np.log(f0[voiced].astype(np.float64)) - a.lf0.mean) / a.lf0.std * tgt.std + tgt.mean)
    np.testing.assert_allclose(conv.f0[voiced], expected, rtol=1e-5)
    assert np.all(conv.f0[~voiced] == 0)
    np.testing.assert_array_equal(conv.bap, a.features.bap)  # the source's aperiodicity is kept
    shifted = Converter.from_bundle(bundle, f0_scale=1.5).convert_features(a, "high")
    np.testing.assert_allclose(shifted.f0, 1.5 * convert_f0(f0, a.lf0, tgt), rtol=1e-5)


def test_baseline_equals_the_statistics_only_chain(baseline: Converter) -> None:
    wave, _ = speech_like(0.9, SR, 100.0, seed=7)
    out, sr = baseline.convert(wave, SR, "high", source="low")
    s, t = baseline.stats.index("low"), baseline.stats.index("high")
    st = baseline.stats
    feats = analyze(wave, baseline.feature_config, "low")
    mcep = (feats.mcep - st.mcep_mean[s]) / st.mcep_std[s] * st.mcep_std[t] + st.mcep_mean[t]
    f0 = convert_f0(feats.f0, LogF0Stats(st.lf0_mean[s], st.lf0_std[s]), LogF0Stats(st.lf0_mean[t], st.lf0_std[t]))
    direct = synthesize(f0, mcep, feats.bap, baseline.feature_config)[:len(wave)]
    direct = np.pad(direct, (0, len(wave) - len(direct)))
    direct *= min(1.0, 0.99 / np.abs(direct).max())
    np.testing.assert_allclose(out, direct, atol=1e-4)


def test_network_runs_g_on_normalised_mcep_with_the_target_code(bundle: Path, converter: Converter,
                                                                 baseline: Converter) -> None:
    import torch

    from vc.stargan_vc.bundle import load_generator

    stored_g = load_generator(bundle)[0]  # as trained, not the converter's inference-optimised copy
    wave, _ = speech_like(0.7, SR, 150.0, seed=8)
    a = converter.analyze(wave, SR, source="mid")
    st, s, t = converter.stats, converter.stats.index("mid"), converter.stats.index("low")
    x = ((a.features.mcep - st.mcep_mean[s]) / st.mcep_std[s]).astype(np.float32)
    code = torch.zeros(1, len(st.speakers))
    code[0, t] = 1
    with torch.no_grad():
        y = stored_g(torch.from_numpy(x.T.copy())[None], code)[0].numpy().T
    expected = y * st.mcep_std[t] + st.mcep_mean[t]
    # the pause rule: where the statistical mapping's c0 is > 26 dB below its loudest frame, c0 is
    # at most the mapping's (ln-amplitude units: 26 dB = 26 / (20 / ln 10))
    mapped_c0 = x[:, 0] * st.mcep_std[t][0] + st.mcep_mean[t][0]
    pause = mapped_c0 < mapped_c0.max() - 26.0 * np.log(10.0) / 20.0
    assert 0 < pause.sum() < len(pause)
    expected_pauses = expected.copy()
    expected_pauses[pause, 0] = np.minimum(expected[pause, 0], mapped_c0[pause])
    out = converter.convert_mcep(a, "low")
    np.testing.assert_allclose(out, expected_pauses, atol=1e-4)
    assert (out[pause, 0] < expected[pause, 0] - 0.1).any()  # this G left pauses too loud: lowered
    plain = Converter.from_bundle(bundle, precision="fp32", pause_db=0.0).convert_mcep(a, "low")
    np.testing.assert_allclose(plain, expected, atol=1e-4)
    assert not np.allclose(out, baseline.convert_mcep(a, "low"), atol=1e-2)


@pytest.mark.parametrize("conditioning", ["target", "source_target"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_voicing_conditioned_generator_gets_the_source_voicing(tmp_path: Path, precision: str,
                                                               conditioning: str) -> None:
    """G gets the analysed voicing and its speaker code: under source-target conditioning the
    (source, target) pair for a known source, a uniform source half for an unseen one."""
    import torch

    from vc.stargan_vc.networks import speaker_code
    from vc.stargan_vc.bundle import load_generator

    bundle = random_bundle(tmp_path / "exp" / "voicing", speaker_waves(SPEAKERS, SR),
                           FeatureConfig(sample_rate=SR, mcep_dim=24),
                           net={**TINY_NET, "generator_voicing": True, "conditioning": conditioning})
    stored_g = load_generator(bundle)[0]
    converter = Converter.from_bundle(bundle, precision=precision, pause_db=0.0)
    wave, _ = speech_like(0.9, SR, 150.0, seed=8)
    for source in ("mid", None):  # a known speaker's statistics, and an unseen speaker's estimated ones
        a = converter.analyze(wave, SR, source=source)
        assert 0 < a.features.voiced.sum() < len(a.features.voiced)  # voiced and unvoiced frames
        x = ((a.features.mcep - a.mcep_mean) / a.mcep_std).astype(np.float32)
        t = converter.stats.index("low")
        src = None if source is None else torch.tensor([converter.stats.index(source)])
        code = speaker_code(conditioning, src, torch.tensor([t]), len(converter.stats.speakers))
        voiced = torch.from_numpy(a.features.voiced.astype(np.float32))[None]
        with torch.no_grad():
            y = stored_g(torch.from_numpy(x.T.copy())[None], code, voiced)[0].numpy().T
            flipped = stored_g(torch.from_numpy(x.T.copy())[None], code, 1 - voiced)[0].numpy().T
        expected = y * converter.stats.mcep_std[t] + converter.stats.mcep_mean[t]
        out = converter.convert_mcep(a, "low")
        tol = 1e-4 if precision == "fp32" else 0.05 * (1 + np.abs(expected).max())
        np.testing.assert_allclose(out, expected, atol=tol)
        assert np.abs(flipped - y).max() > 0.1  # the voicing matters to this G
        wav, sr = converter.convert_analysis(a, "low")
        assert sr == SR and np.isfinite(wav).all()


def test_inference_rewrite_is_exact_with_trained_batch_norm_statistics() -> None:
    import torch

    from vc.config import from_dict
    from vc.convert.inference import prepare_for_inference
    from vc.stargan_vc.config import StarGANVCNetConfig
    from vc.stargan_vc.networks import Generator

    torch.manual_seed(0)
    g = Generator(from_dict(StarGANVCNetConfig, {"num_speakers": 3, "mcep_dim": 20, **TINY_NET})).eval()
    for m in g.modules():  # statistics as after training, not the identity of a fresh layer
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.3, 3.0)
            m.weight.data.normal_(1, 0.2)
            m.bias.data.normal_(0, 0.2)
    fast = prepare_for_inference(g, 3, 20)
    assert fast is not g and not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    x, code = torch.randn(2, 20, 77), torch.eye(3)[[0, 2]]
    with torch.no_grad():
        torch.testing.assert_close(fast(x, code), g(x, code), atol=1e-5, rtol=1e-4)


def test_long_input_is_converted_whole(converter: Converter) -> None:
    wave, _ = speech_like(4.0, SR, 140.0, seed=9)
    a = converter.analyze(wave, SR, source="mid")
    mcep = converter.convert_mcep(a, "high")
    assert mcep.shape == a.features.mcep.shape
    out, _ = converter.convert_analysis(a, "high")
    assert len(out) == len(wave) and np.isfinite(out).all()


def test_unknown_target_lists_speakers(converter: Converter) -> None:
    wave, _ = speech_like(0.5, SR, 140.0, seed=1)
    with pytest.raises(UnknownSpeakerError, match="low, mid, high|high, low, mid"):
        converter.convert(wave, SR, "nobody")


def test_bad_input_and_options_are_refused(bundle: Path, converter: Converter) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        converter.convert(np.full(8000, np.nan), SR, "low")
    with pytest.raises(ConversionError, match="f0_scale"):
        Converter.from_bundle(bundle, f0_scale=-1.0)
    with pytest.raises(ConversionError, match="baseline"):
        Converter.from_bundle(bundle, baseline="gmm")
    with pytest.raises(ConversionError, match="invalid device"):
        Converter.from_bundle(bundle, device="quantum")


def test_bundle_with_inconsistent_settings_is_refused(bundle: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "bad"
    shutil.copytree(bundle, copy)
    cfg = yaml.safe_load((copy / "config.yaml").read_text())
    cfg["features"]["frame_period"] = 10.0  # the statistics say 5 ms
    (copy / "config.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConversionError, match="frame_period"):
        Converter.from_bundle(copy)
    cfg["features"]["f0_method"] = "yin"  # a tracker this code does not have
    (copy / "config.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConversionError, match="f0_method"):
        Converter.from_bundle(copy)


def test_import_vc_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, vc; assert 'torch' not in sys.modules and 'pyworld' not in sys.modules; print(vc.Converter)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "vc.convert.converter.Converter" in res.stdout


def test_bf16_output_is_close_to_fp32(bundle: Path) -> None:
    import torch

    from vc.convert.converter import ConverterOptions

    with pytest.raises(ConversionError, match="precision must be one of"):
        ConverterOptions(precision="fp16")
    wave, _ = speech_like(1.0, SR, 150.0, seed=7)
    fp32 = Converter.from_bundle(bundle, precision="fp32")
    bf16 = Converter.from_bundle(bundle, precision="bf16")
    assert fp32.describe()["precision"] == "fp32" and bf16.describe()["precision"] == "bf16"
    assert next(bf16.generator.parameters()).dtype == torch.bfloat16  # cast once, not autocast per call
    assert Converter.from_bundle(bundle, baseline="stats").describe()["precision"] == "none"
    a = fp32.analyze(wave, SR, source="low")
    ref, low = fp32.convert_mcep(a, "high"), bf16.convert_mcep(a, "high")
    assert low.shape == ref.shape and np.isfinite(low).all()
    mcd = 10 / np.log(10) * np.sqrt(2 * ((low - ref)[:, 1:] ** 2).sum(axis=1)).mean()
    assert 0 < mcd < 0.5  # bfloat16 moves the output a little, nowhere near audibly


@pytest.mark.parametrize("features, expected", [
    ({"amx_bf16": True, "avx512_bf16": True}, "bf16"),   # Xeon since Sapphire Rapids
    ({"amx_bf16": False, "avx512_bf16": True}, "bf16"),  # Zen 4, Cooper Lake
    ({"amx_bf16": False, "avx512_bf16": False, "avx2": True}, "fp32"),
    ({}, "fp32"),
])
def test_auto_precision_is_bf16_only_where_the_cpu_has_native_bf16(
        bundle: Path, monkeypatch: pytest.MonkeyPatch, features: dict, expected: str) -> None:
    import torch

    from vc.convert.inference import resolve_precision

    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: features)
    assert resolve_precision("auto", "cpu") == expected
    assert Converter.from_bundle(bundle).describe()["precision"] == expected
    assert resolve_precision("auto", "cuda:0") == "fp32"
    assert resolve_precision("fp32", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ValueError, match="precision must be"):
        resolve_precision("fp16")


def test_loud_output_is_scaled_down_not_clipped(converter: Converter, caplog: pytest.LogCaptureFixture) -> None:
    wave, _ = speech_like(1.0, SR, 120.0, seed=2)
    wave = wave / np.abs(wave).max()  # a full-scale source; the conversion makes it louder still
    caplog.set_level("WARNING")
    out, _ = converter.convert(wave, SR, "high", source="low")
    assert "scaled down" in caplog.text
    assert np.abs(out).max() <= 0.99
    assert np.abs(out).max() > 0.98  # scaled to the limit, not silenced
    assert np.mean(np.abs(out) > 0.985) < 0.01  # a scaled waveform, not a clipped (flat-topped) one
