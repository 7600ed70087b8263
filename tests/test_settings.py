from pathlib import Path

import pytest

from inspector.settings import Settings, SettingsError


def test_defaults_derive_from_data_dir(tmp_path):
    s = Settings.load({"data_dir": tmp_path}, config_file=tmp_path / "none.yaml")
    assert s.database_url == f"sqlite:///{tmp_path / 'inspector.db'}"
    assert s.image_dir == tmp_path / "images" and s.reference_dir == tmp_path / "references"


def test_layering_file_env_overrides(tmp_path, monkeypatch):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("station: line-3\ndevice: cpu\ntarget_false_reject: 0.02\n")
    monkeypatch.setenv("INSPECTOR_STATION", "line-4")
    s = Settings.load({"data_dir": str(tmp_path), "device": None}, config_file=cfg)
    assert s.station == "line-4" and s.device == "cpu" and s.target_false_reject == 0.02
    s2 = Settings.load({"data_dir": str(tmp_path), "station": "cli"}, config_file=cfg)
    assert s2.station == "cli"


def test_unknown_key_and_bad_values_rejected(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("staton: typo\n")
    with pytest.raises(SettingsError, match="unknown setting.*staton"):
        Settings.load(config_file=cfg)
    with pytest.raises(SettingsError, match="device"):
        Settings(data_dir=tmp_path, device="tpu")
    with pytest.raises(SettingsError, match="target_false_reject"):
        Settings(data_dir=tmp_path, target_false_reject=2)
    cfg.write_text("- a list\n")
    with pytest.raises(SettingsError, match="mapping"):
        Settings.load(config_file=cfg)


def test_save_roundtrip(tmp_path):
    s = Settings(data_dir=tmp_path, station="s1", device="cpu")
    path = s.save(tmp_path / "out.yaml")
    s2 = Settings.load(config_file=path)
    assert s2.station == "s1" and Path(s2.data_dir) == tmp_path


def test_file_carries_a_schema_version_and_a_newer_one_is_refused(tmp_path):
    import yaml

    from inspector.settings import SCHEMA_VERSION

    path = Settings(data_dir=tmp_path, device="cpu").save(tmp_path / "out.yaml")
    assert yaml.safe_load(path.read_text())["schema_version"] == SCHEMA_VERSION
    old = tmp_path / "old.yaml"
    old.write_text("device: cpu\n")  # written before the schema was versioned: version 1
    assert Settings.load({"data_dir": tmp_path}, config_file=old).device == "cpu"
    old.write_text(f"schema_version: {SCHEMA_VERSION + 1}\ndevice: cpu\n")
    with pytest.raises(SettingsError, match="newer"):
        Settings.load(config_file=old)


def test_unknown_override_and_wrong_types_are_settings_errors(tmp_path, monkeypatch):
    none = tmp_path / "none.yaml"
    with pytest.raises(SettingsError, match="unknown setting.*colour.*known: backend"):
        Settings.load({"colour": "red"}, config_file=none)
    monkeypatch.setenv("INSPECTOR_TARGET_FALSE_REJECT", "a lot")
    with pytest.raises(SettingsError, match="target_false_reject"):
        Settings.load(config_file=none)
    monkeypatch.setenv("INSPECTOR_TARGET_FALSE_REJECT", "0.03")
    monkeypatch.setenv("INSPECTOR_RETENTION_KEEP_UNREVIEWED", "no")
    monkeypatch.setenv("INSPECTOR_NOT_A_SETTING", "x")  # other INSPECTOR_* variables are not settings
    s = Settings.load({"data_dir": tmp_path}, config_file=none)
    assert s.target_false_reject == 0.03 and s.retention_keep_unreviewed is False
