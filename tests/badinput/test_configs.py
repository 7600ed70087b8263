"""Settings files and INSPECTOR_* values that are wrong: each is a SettingsError naming the problem
(exit code 2 from the CLI), never a TypeError traceback or a silently ignored typo."""

from __future__ import annotations

import pytest

from inspector.settings import Settings, SettingsError

BAD_FILES = [
    ("not-a-mapping", "- a\n- b\n", "mapping"),
    ("scalar", "42\n", "mapping"),
    ("unknown-key", "devcie: cpu\n", "unknown setting"),
    ("two-unknown", "colour: red\nspeed: 3\n", "colour, speed"),
    ("bad-device", "device: gpu\n", "device must be"),
    ("device-number", "device: 0\n", "invalid settings"),
    ("bad-explain", "explain: sometimes\n", "explain must be"),
    ("frr-zero", "target_false_reject: 0\n", "between 0 and 0.5"),
    ("frr-half", "target_false_reject: 0.5\n", "between 0 and 0.5"),
    ("frr-text", "target_false_reject: often\n", "invalid settings"),
    ("frr-list", "target_false_reject: [1, 2]\n", "invalid settings"),
    ("retention-zero", "retention_images_days: 0\n", "at least 1 day"),
    ("retention-text", "retention_records_days: forever\n", "whole number of days"),
    ("pixels-zero", "max_image_pixels: 0\n", "at least 1"),
    ("pixels-negative", "max_image_pixels: -5\n", "at least 1"),
    ("pixels-text", "max_image_pixels: lots\n", "whole number"),
    ("pixels-float", "max_image_pixels: 1.5e6\n", "whole number"),
    ("bytes-null-text", "max_image_bytes: none\n", "whole number"),
    ("data-dir-list", "data_dir: [a, b]\n", "invalid settings"),
    ("data-dir-number", "data_dir: {a: 1}\n", "invalid settings"),
    ("bad-yaml", "device: [cpu\n", "cannot read settings"),
    ("tab-yaml", "device:\tcpu\n\t- x\n", "cannot read settings"),
    ("binary", b"\xff\xfe\x00\x01garbage", "cannot read settings"),
    ("alias-bomb", "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "unknown setting"),
]


@pytest.mark.parametrize("case, text, phrase", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_bad_settings_file_is_a_settings_error(tmp_path, monkeypatch, case, text, phrase):
    for key in ("INSPECTOR_DEVICE", "INSPECTOR_EXPLAIN", "INSPECTOR_DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    path = tmp_path / "settings.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(SettingsError, match=phrase):
        Settings.load(config_file=path)


BAD_ENV = [
    ("INSPECTOR_DEVICE", "tpu", "device must be"),
    ("INSPECTOR_EXPLAIN", "loud", "explain must be"),
    ("INSPECTOR_TARGET_FALSE_REJECT", "1 %", "invalid settings"),
    ("INSPECTOR_MAX_IMAGE_PIXELS", "eighty million", "whole number"),
    ("INSPECTOR_MAX_IMAGE_BYTES", "0", "at least 1"),
    ("INSPECTOR_RETENTION_IMAGES_DAYS", "-1", "at least 1 day"),
]


@pytest.mark.parametrize("key, value, phrase", BAD_ENV, ids=[e[0] for e in BAD_ENV])
def test_a_bad_environment_value_is_a_settings_error(tmp_path, monkeypatch, key, value, phrase):
    monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=phrase):
        Settings.load(config_file=tmp_path / "none.yaml")


def test_limits_from_the_environment_are_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECTOR_MAX_IMAGE_PIXELS", "1_000_000")
    monkeypatch.setenv("INSPECTOR_MAX_IMAGE_BYTES", "4096")
    s = Settings.load(config_file=tmp_path / "none.yaml")
    assert (s.max_image_pixels, s.max_image_bytes) == (1_000_000, 4096)
