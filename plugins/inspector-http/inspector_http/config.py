"""The HTTP plugin's settings: the ``http`` section of ``Settings.plugins``, checked once at start.

Every key is optional; ``http: {}`` serves on 127.0.0.1:8088 with the trigger endpoint
refusing every call (no token). Unknown keys and wrong types are refused with
:class:`HttpSettingsError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from inspector.errors import InspectorError


class HttpSettingsError(InspectorError):
    """The ``http`` settings section cannot be used, or the server cannot start."""


@dataclass(frozen=True)
class HttpSettings:
    host: str = "127.0.0.1"  # loopback by default; 0.0.0.0 only behind the plant's firewall
    port: int = 8088  # 0: any free port (the server's ``port`` says which)
    token: str = ""  # bearer token for POST /trigger; empty: the trigger refuses every call
    max_results: int = 1000  # the largest page a results query returns
    start_timeout_s: float = 10.0

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> HttpSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise HttpSettingsError(f"plugins.http: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for name, value in section.items():
            kind = type(getattr(cls, name))
            if kind is str:
                values[name] = "" if value is None else str(value)
                continue
            try:
                if isinstance(value, bool):
                    raise TypeError
                values[name] = kind(value)
            except (TypeError, ValueError):
                raise HttpSettingsError(f"plugins.http.{name} must be a {kind.__name__}, not {value!r}") from None
        out = cls(**values)
        if not 0 <= out.port < 65536:
            raise HttpSettingsError(f"plugins.http.port {out.port} is not a TCP port (0..65535)")
        if out.max_results < 1 or out.start_timeout_s <= 0:
            raise HttpSettingsError("plugins.http: max_results >= 1 and start_timeout_s > 0")
        if out.token and len(out.token) < 16:
            raise HttpSettingsError("plugins.http.token is shorter than 16 characters: use a long random token "
                                    "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return out
