"""Typed station settings, layered: defaults -> settings file -> INSPECTOR_* env -> explicit overrides.

The layering, the ``INSPECTOR_`` environment prefix, type checks and the refusal of unknown
keys are pydantic-settings' (:func:`_layers_model`); :class:`Settings` stays the plain dataclass the
app, the CLI and the facade use (fields, ``load``, ``save``, ``dataclasses.replace``), and
its ``__post_init__`` derives paths and checks the values every layer shares.

The file is YAML (``~/.config/inspector/settings.yaml`` or ``$INSPECTOR_CONFIG``) and carries
``schema_version`` (:data:`SCHEMA_VERSION`); a file without one is version 1, a newer one is
refused rather than half understood. Unknown keys are a :class:`SettingsError` naming them,
so a typo never silently does nothing.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

from inspector.errors import InspectorError

if TYPE_CHECKING:  # pydantic is imported on first load(): `inspector --help` and the window stay fast
    from pydantic import ValidationError
    from pydantic_settings import BaseSettings

ENV_PREFIX = "INSPECTOR_"
EXPLAIN_MODES = ("async", "sync", "off")
DEVICES = ("auto", "cpu", "cuda")
SCHEMA_VERSION = 1  # of the settings file; raise it (and read the old form) when a key changes meaning


class SettingsError(InspectorError, ValueError):
    """A setting is unknown or has a value of the wrong kind."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "inspector"


def default_config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "inspector" / "settings.yaml"


@dataclass
class Settings:
    """Everything a station needs to know. Paths left empty derive from ``data_dir``."""

    station: str = field(default_factory=socket.gethostname)
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""  # default: sqlite:///<data_dir>/inspector.db
    image_dir: Path | None = None  # default: <data_dir>/images
    reference_dir: Path | None = None  # default: <data_dir>/references (taught parts)
    device: str = "auto"  # auto|cpu|cuda
    target_false_reject: float = 0.01  # teach-time calibration target on good parts
    explain: str = "async"  # async|sync|off
    operator: str = ""  # user name recorded with inspections
    backend: str = "embedded-vlm"  # name in the inspector.backends entry-point group
    retention_images_days: int | None = None  # purge stored images older than this (None = keep)
    retention_records_days: int | None = None  # purge inspection records older than this (None = keep)
    retention_keep_unreviewed: bool = True  # never purge flagged parts nobody has reviewed
    # issue 12, bad images (docs/reliability.md): larger files or headers are recorded REVIEW, never decoded
    max_image_pixels: int = 80_000_000  # width x height an image may declare
    max_image_bytes: int = 256 * 1024 * 1024  # size of one image file
    # torch/OpenCV threads (0 = auto: half the cores while explanations run beside the line; docs/model.md)
    torch_threads: int = 0
    # issue 13, the station (docs/app.md): NG/REVIEW stay on the banner until acknowledged; floor layout
    hold_flagged: bool = True
    floor_layout: bool = False  # large text, touch-size buttons, high contrast
    # issue 11: one section per plugin, e.g. {"mqtt": {"host": "127.0.0.1"}}; a plugin without its
    # section stays off (docs/integrations.md). Env: INSPECTOR_PLUGINS='{"mqtt": {...}}' (JSON)
    plugins: dict[str, Any] = field(default_factory=dict)
    # issue 11, parts not frames (docs/integrations.md "Parts and part identity"): how a video or camera
    # becomes parts (auto|free-run|software|hardware|every-frame), part detection, part ids from codes
    trigger_mode: str = "auto"
    part_motion: float = 2.0  # mean grey change between frames below which the view is still (0..255)
    part_presence: float = 0.05  # fraction of the view that differs from the empty belt: a part is there
    part_settle_frames: int = 3  # still frames before a part is taken (the sharpest of them is inspected)
    part_empty_frames: int = 2  # frames without a part before the next one can start
    read_codes: bool = True  # read the part id from a DataMatrix/QR/barcode in the image (zxing-cpp)
    # issue 12, store and forward (docs/reliability.md): a part the store cannot take goes to the spool
    spool_dir: Path | None = None  # default: <data_dir>/spool; best on another volume than the data
    spool_max_parts: int = 10_000  # pending records at most
    spool_max_bytes: int = 2 * 1024**3  # bytes of pending records at most
    spool_min_free_bytes: int = 64 * 1024**2  # the spool leaves this much free on its volume...
    spool_reserve_bytes: int = 64 * 1024**2  # ...except for this reserve, set aside while a line runs (0: none)
    spool_retry_s: float = 5.0  # how often a degraded station tries the storage again
    db_busy_timeout_ms: int = 30_000  # SQLite: how long a write waits for another writer's lock

    def plugin(self, name: str) -> dict[str, Any] | None:
        """The settings section of plugin ``name``, or None when the station has not configured it."""
        section = (self.plugins or {}).get(name)
        if section is None or section is False:
            return None
        if section is True:
            return {}
        if not isinstance(section, dict):
            raise SettingsError(f"plugins.{name} must be a mapping of that plugin's settings, not {section!r}")
        return None if section.get("enabled", True) is False else dict(section)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser()
        if self.image_dir is None:
            self.image_dir = self.data_dir / "images"
        if self.reference_dir is None:
            self.reference_dir = self.data_dir / "references"
        self.image_dir = Path(self.image_dir).expanduser()
        self.reference_dir = Path(self.reference_dir).expanduser()
        if not self.database_url:
            # escaped: a data folder named with '?', '#' or '%41' must still name this file
            path = str(self.data_dir / "inspector.db")
            self.database_url = "sqlite:///" + path.replace("%", "%25").replace("?", "%3F").replace("#", "%23")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise SettingsError(f"device must be one of {DEVICES} or cuda:N, not {self.device!r}")
        if self.explain not in EXPLAIN_MODES:
            raise SettingsError(f"explain must be one of {EXPLAIN_MODES}, not {self.explain!r}")
        if not 0.0 < float(self.target_false_reject) < 0.5:
            raise SettingsError("target_false_reject must be between 0 and 0.5 (e.g. 0.01 = 1 %)")
        self.target_false_reject = float(self.target_false_reject)
        for name in ("retention_images_days", "retention_records_days"):
            value = getattr(self, name)
            if value in ("", None):
                setattr(self, name, None)
                continue
            try:
                days = int(value)
            except (TypeError, ValueError):
                raise SettingsError(f"{name} must be a whole number of days, not {value!r}") from None
            if days < 1:
                raise SettingsError(f"{name} must be at least 1 day")
            setattr(self, name, days)
        if isinstance(self.retention_keep_unreviewed, str):
            self.retention_keep_unreviewed = self.retention_keep_unreviewed.strip().lower() in ("1", "true", "yes")
        for name in ("max_image_pixels", "max_image_bytes"):  # issue 12: image limits
            setattr(self, name, _positive_int(name, getattr(self, name)))
        _check_parts(self)
        _check_spool(self)
        if not isinstance(self.torch_threads, int) or isinstance(self.torch_threads, bool) or self.torch_threads < 0:
            raise SettingsError(f"torch_threads must be a whole number >= 0 (0 = auto), not {self.torch_threads!r}")

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None, *, config_file: Path | None = None) -> Settings:
        """Defaults, then the settings file (if any), then env, then ``overrides`` (None values ignored).

        Raises :class:`SettingsError` naming unknown keys, values of the wrong kind, a file that
        cannot be read or one written for a newer schema.
        """
        path = config_file or Path(os.environ.get(ENV_PREFIX + "CONFIG", "") or default_config_file())
        token = _FILE_VALUES.set(_read_file(path) if path.is_file() else {})
        from pydantic import ValidationError

        try:
            layers = _layers_model()(**{k: v for k, v in (overrides or {}).items() if v is not None})
        except ValidationError as exc:
            raise _settings_error(exc) from None
        finally:
            _FILE_VALUES.reset(token)
        values = {k: v for k, v in layers.model_dump(exclude_unset=True).items()
                  if v is not None or k in _NULLABLE}
        try:
            return cls(**values)
        except (TypeError, ValueError, AttributeError) as exc:  # a value of the wrong kind in the file or env
            if isinstance(exc, SettingsError):
                raise
            raise SettingsError(f"invalid settings: {exc}") from exc

    def save(self, path: Path | None = None) -> Path:
        """Write the settings as YAML (atomically) and return the path."""
        import yaml

        path = path or default_config_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}
        data["schema_version"] = SCHEMA_VERSION
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def ensure_dirs(self) -> None:
        for p in (self.data_dir, self.image_dir, self.reference_dir):
            Path(p).mkdir(parents=True, exist_ok=True)


def _read_file(path: Path) -> dict[str, Any]:
    """The settings file's keys, without ``schema_version`` (checked here). SettingsError otherwise."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: cannot read settings: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: settings must be a mapping of key: value")
    version = data.pop("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SettingsError(f"{path}: schema_version must be a whole number >= 1, not {version!r}")
    if version > SCHEMA_VERSION:
        raise SettingsError(f"{path}: settings schema_version {version} is newer than this Inspector reads "
                            f"({SCHEMA_VERSION}); update Inspector or rewrite the file")
    return data


# --- the layers (pydantic-settings) ------------------------------------------------------

# Checked by Settings.__post_init__ with messages of their own (whole numbers, days): taken as given.
_OWN_PARSING = ("retention_images_days", "retention_records_days", "max_image_pixels", "max_image_bytes",
                "spool_max_parts", "spool_max_bytes", "spool_min_free_bytes", "spool_reserve_bytes",
                "db_busy_timeout_ms", "spool_retry_s")
# None is a value these may be set to (keep forever); for the others None means "not given".
_NULLABLE = ("retention_images_days", "retention_records_days", "image_dir", "reference_dir", "spool_dir")
_FILE_VALUES: ContextVar[dict[str, Any] | None] = ContextVar("inspector_settings_file", default=None)


_LAYERS: list[type[BaseSettings]] = []


def _layers_model() -> type[BaseSettings]:
    """The pydantic-settings model of the layers, built once: one optional field per Settings
    field, typed as Settings declares it; sources in order CLI overrides, env, file."""
    if _LAYERS:
        return _LAYERS[0]
    from pydantic import create_model
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

    class FileSource(PydanticBaseSettingsSource):
        """The settings file's values (read and version-checked by :func:`_read_file`)."""

        def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
            return (_FILE_VALUES.get() or {}).get(field_name), field_name, False

        def __call__(self) -> dict[str, Any]:
            return dict(_FILE_VALUES.get() or {})

    class LayerBase(BaseSettings):
        model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", env_ignore_empty=True,
                                          case_sensitive=False)

        @classmethod
        def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: Any,
                                       env_settings: Any, dotenv_settings: Any, file_secret_settings: Any
                                       ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, FileSource(settings_cls)  # the first that has a key wins

    hints = get_type_hints(Settings)
    fields_: dict[str, Any] = {f.name: (Any if f.name in _OWN_PARSING else hints[f.name] | None, None)
                               for f in dataclasses.fields(Settings)}
    _LAYERS.append(create_model("_Layers", __base__=LayerBase, **fields_))
    return _LAYERS[0]


def _settings_error(exc: ValidationError) -> SettingsError:
    """One SettingsError for pydantic's errors: unknown keys listed with the known ones, then bad values."""
    errors = exc.errors(include_url=False)
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        known = ", ".join(sorted(f.name for f in dataclasses.fields(Settings)))
        return SettingsError(f"unknown setting(s): {', '.join(unknown)} (known: {known})")
    bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})" for e in errors)
    return SettingsError(f"invalid settings: {bad}")


def _check_parts(s: Settings) -> None:
    """Trigger mode and part-detection values (issue 11); SettingsError naming the bad one."""
    from inspector.parts.trigger import MODES

    s.trigger_mode = str(s.trigger_mode).strip().lower()
    if s.trigger_mode not in MODES:
        raise SettingsError(f"trigger_mode must be one of {', '.join(MODES)}, not {s.trigger_mode!r}")
    if isinstance(s.read_codes, str):
        s.read_codes = s.read_codes.strip().lower() in ("1", "true", "yes")
    for name, low, high in (("part_motion", 0.0, 255.0), ("part_presence", 0.0, 1.0)):
        value = getattr(s, name)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be a number, not {value!r}") from None
        if not low < value <= high:
            raise SettingsError(f"{name} must be above {low:g} and at most {high:g}, not {value:g}")
        setattr(s, name, value)
    for name in ("part_settle_frames", "part_empty_frames"):
        setattr(s, name, _positive_int(name, getattr(s, name)))


def _check_spool(s: Settings) -> None:
    """Store-and-forward values (issue 12); SettingsError naming the bad one."""
    s.spool_dir = s.data_dir / "spool" if s.spool_dir in (None, "") else Path(s.spool_dir).expanduser()
    for name in ("spool_max_parts", "spool_max_bytes", "db_busy_timeout_ms"):
        setattr(s, name, _positive_int(name, getattr(s, name)))
    for name in ("spool_min_free_bytes", "spool_reserve_bytes"):  # 0 allowed: none
        value = getattr(s, name)
        setattr(s, name, 0 if str(value).strip() == "0" else _positive_int(name, value))
    try:
        s.spool_retry_s = float(s.spool_retry_s)
    except (TypeError, ValueError):
        raise SettingsError(f"spool_retry_s must be a number of seconds, not {s.spool_retry_s!r}") from None
    if not 0.0 < s.spool_retry_s <= 3600.0:
        raise SettingsError(f"spool_retry_s must be above 0 and at most 3600 seconds, not {s.spool_retry_s:g}")


def _positive_int(name: str, value: Any) -> int:
    """A whole number >= 1 from a setting (env values arrive as text). SettingsError otherwise."""
    try:
        number = int(str(value).replace("_", ""))
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise SettingsError(f"{name} must be at least 1, not {number}")
    return number
