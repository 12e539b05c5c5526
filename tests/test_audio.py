"""vc.audio: every readable format comes in as float64 mono at the asked rate; bad audio is refused by name."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf

from vc.audio import SILENCE_PEAK, AudioError, load_audio, resample, validate_wave, write_audio

SR = 16000


def tone(seconds: float = 0.5, sr: int = SR, freq: float = 220.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return amp * np.sin(2 * np.pi * freq * t)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_pcm_widths_and_float_read_to_full_scale(tmp_path, subtype):
    path = tmp_path / f"x_{subtype}.wav"
    sf.write(path, tone(), SR, subtype=subtype)
    x = load_audio(path, SR)
    assert x.dtype == np.float64 and x.ndim == 1 and len(x) == int(0.5 * SR)
    tol = 1e-2 if subtype == "PCM_U8" else 1e-4
    np.testing.assert_allclose(x, tone(), atol=tol)


@pytest.mark.parametrize("fmt", ["flac", "ogg"])
def test_compressed_formats(tmp_path, fmt):
    path = tmp_path / f"x.{fmt}"
    sf.write(path, tone(), SR)
    x = load_audio(path, SR)
    assert abs(len(x) - int(0.5 * SR)) <= 1 and 0.4 < np.max(np.abs(x)) < 0.6
    if fmt == "flac":  # lossless
        np.testing.assert_allclose(x, tone(), atol=1e-4)


def test_stereo_is_downmixed_by_averaging(tmp_path):
    left, right = tone(freq=220), tone(freq=330, amp=0.2)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), SR, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path, SR), (left + right) / 2, atol=1e-6)


@pytest.mark.parametrize("orig,target", [(48000, 16000), (22050, 24000), (8000, 16000), (44100, 22050)])
def test_resampling_length_and_content(tmp_path, orig, target):
    path = tmp_path / "r.wav"
    sf.write(path, tone(0.5, sr=orig), orig, subtype="FLOAT")
    x = load_audio(path, target)
    assert len(x) == round(0.5 * orig * target / orig)
    # a 220 Hz tone stays a 220 Hz tone: compare the middle to the ideal one (edges have filter ramps)
    mid = slice(len(x) // 4, 3 * len(x) // 4)
    np.testing.assert_allclose(x[mid], tone(0.5, sr=target)[mid], atol=2e-3)


def test_resample_identity_returns_copy():
    x = tone()
    y = resample(x, SR, SR)
    assert y is not x and np.array_equal(x, y)
    with pytest.raises(ValueError):
        resample(x, 0, SR)


def expect_error(path, match, **kwargs):
    with pytest.raises(AudioError, match=match) as info:
        load_audio(path, SR, **kwargs)
    assert str(info.value).startswith(f"{path}: ")


def test_missing_empty_and_corrupt_files_are_named(tmp_path):
    expect_error(tmp_path / "missing.wav", "file not found")
    (tmp_path / "zero.wav").write_bytes(b"")
    expect_error(tmp_path / "zero.wav", "empty file")
    (tmp_path / "junk.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk" * 4)
    expect_error(tmp_path / "junk.wav", "unreadable")
    (tmp_path / "text.flac").write_text("not audio at all")
    expect_error(tmp_path / "text.flac", "unreadable")
    expect_error(tmp_path, "is a directory, not an audio file")


def test_header_only_wav_is_empty(tmp_path):
    path = tmp_path / "nosamples.wav"
    sf.write(path, np.zeros(0), SR)
    expect_error(path, r"empty audio \(0 samples\)")


def test_silence_threshold(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros(SR), SR)
    expect_error(path, "silent")
    quiet = tone(amp=SILENCE_PEAK * 0.5)
    sf.write(path, quiet, SR, subtype="FLOAT")
    expect_error(path, "silent")
    audible = tone(amp=SILENCE_PEAK * 20)  # -54 dBFS: quiet but real
    sf.write(path, audible, SR, subtype="FLOAT")
    assert np.max(np.abs(load_audio(path, SR))) > SILENCE_PEAK


def test_non_finite_samples(tmp_path):
    x = tone()
    x[100] = np.nan
    x[200] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, x, SR, subtype="FLOAT")
    expect_error(path, r"2 non-finite sample\(s\).*first at sample 100")


def test_too_short(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, tone(0.05), SR)
    expect_error(path, "too short")
    assert len(load_audio(path, SR, min_duration=0.01)) == int(0.05 * SR)


def test_validate_wave_in_memory():
    stereo_frames_first = np.stack([tone(), tone()], axis=1)
    np.testing.assert_allclose(validate_wave(stereo_frames_first, SR), tone())
    np.testing.assert_allclose(validate_wave(stereo_frames_first.T, SR), tone())  # librosa layout
    int16 = (tone() * 32767).astype(np.int16)
    np.testing.assert_allclose(validate_wave(int16, SR), tone(), atol=1e-4)
    with pytest.raises(AudioError, match=r"^mine: silent"):
        validate_wave(np.zeros(SR), SR, name="mine")
    with pytest.raises(AudioError, match=r"^<array>: empty"):
        validate_wave(np.zeros(0), SR)
    with pytest.raises(AudioError, match="1-D or 2-D"):
        validate_wave(np.zeros((2, 2, SR)), SR)


def test_write_audio_round_trip_atomic_and_no_clipping(tmp_path, caplog):
    path = tmp_path / "out dir" / "o.wav"
    write_audio(path, tone(), SR)
    assert sf.info(path).samplerate == SR and sf.info(path).subtype == "PCM_16"
    np.testing.assert_allclose(load_audio(path, SR), tone(), atol=1e-4)
    assert sorted(p.name for p in path.parent.iterdir()) == ["o.wav"]  # no temp file left behind
    with caplog.at_level(logging.WARNING):
        write_audio(path, tone(amp=3.0), SR, subtype="FLOAT")
    assert "exceeds full scale" in caplog.text
    y = sf.read(path)[0]
    assert np.isclose(np.max(np.abs(y)), 0.99, atol=1e-6)
    np.testing.assert_allclose(y / 0.99, tone(amp=3.0) / np.max(np.abs(tone(amp=3.0))), atol=1e-6)


def test_write_audio_refuses_non_finite_and_keeps_old_file(tmp_path):
    path = tmp_path / "keep.wav"
    write_audio(path, tone(), SR)
    before = path.read_bytes()
    bad = tone()
    bad[5] = np.nan
    with pytest.raises(AudioError, match="non-finite"):
        write_audio(path, bad, SR)
    assert path.read_bytes() == before
