"""Atomic writes: all or nothing, and ordinary file permissions."""
import os
import stat

import pytest

from vc.fileio import atomic_path, atomic_write_text


def test_atomic_write_replaces_and_uses_umask_permissions(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("original")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "original"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_parse_overrides_reads_yaml_values_and_rejects_malformed_items():
    from vc.config import ConfigError, parse_overrides

    assert parse_overrides(["a.b=0.5", "c=[1, 2]", "d=null", "e=text"]) == {
        "a.b": 0.5, "c": [1, 2], "d": None, "e": "text"}
    with pytest.raises(ConfigError):
        parse_overrides(["no-equals-sign"])


def test_yaml_booleans_in_a_text_option_mean_the_word(tmp_path):
    """``amp: off`` (unquoted) is a YAML 1.1 boolean; a text option takes it as the word."""
    from vc.config import ConfigError, load_config
    from vc.gan.trainer import TrainerConfig

    path = tmp_path / "t.yaml"
    path.write_text("amp: off\n")
    assert load_config(TrainerConfig, path).amp == "off"
    assert load_config(TrainerConfig, None, {"amp": True}).amp == "on"
    with pytest.raises(ConfigError, match="expected int"):
        load_config(TrainerConfig, None, {"max_steps": False})  # other types still refuse booleans


def test_stale_temp_files_of_killed_writers_are_removed_and_live_ones_kept(tmp_path):
    import time

    from vc.fileio import TEMP_NAME, remove_stale_temp_files

    sub = tmp_path / "wav" / "spkA"
    sub.mkdir(parents=True)
    old = sub / ".u1_to_spkA.ab3_x9kq.tmp.wav"  # left by a killed writer
    live = sub / ".u2_to_spkA.zz0a1b2c.tmp.wav"  # another process is writing it now
    done = sub / "u1_to_spkA.wav"
    user = sub / ".notes.tmp"  # not a name atomic_path makes
    for p in (old, live, done, user):
        p.write_bytes(b"x")
    hour_ago = time.time() - 3600
    for p in (old, done, user):
        os.utime(p, (hour_ago, hour_ago))
    assert remove_stale_temp_files(tmp_path) == 1
    assert not old.exists() and live.exists() and done.exists() and user.exists()
    assert remove_stale_temp_files(tmp_path / "missing") == 0
    with atomic_path(tmp_path / "real.wav") as tmp:  # the names atomic_path makes are the ones matched
        assert TEMP_NAME.match(tmp.name)


def test_choice_problem_names_the_field_and_the_allowed_values():
    from vc.config import choice_problem

    assert choice_problem("model.kind", "a", ("a", "b")) is None
    assert choice_problem("model.kind", "c", ["a", "b"]) == "model.kind must be one of a, b, got 'c'"
