"""The ``opcua`` settings section, checked into an :class:`OpcuaConfig` (bad values: a typed error).

Example (``settings.yaml``)::

    plugins:
      opcua:
        port: 4840                      # host 0.0.0.0 by default; or endpoint: opc.tcp://host:port/path
        namespace: urn:acme:inspector   # the namespace URI of the station's nodes
        security: [Basic256Sha256_SignAndEncrypt]
        certificate: /etc/inspector/opcua-cert.der
        private_key: /etc/inspector/opcua-key.pem
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from inspector.errors import InspectorError

DEFAULT_NAMESPACE = "urn:inspector:machine-vision"
POLICIES = ("None", "Basic256Sha256_Sign", "Basic256Sha256_SignAndEncrypt",
            "Aes128Sha256RsaOaep_Sign", "Aes128Sha256RsaOaep_SignAndEncrypt",
            "Aes256Sha256RsaPss_Sign", "Aes256Sha256RsaPss_SignAndEncrypt")
KEYS = ("enabled", "endpoint", "host", "port", "path", "namespace", "server_name", "security",
        "certificate", "private_key", "armed", "start_timeout_s")


class OpcuaError(InspectorError):
    """The OPC UA server cannot be configured or started (bad settings, port in use, missing key)."""


@dataclass(frozen=True)
class OpcuaConfig:
    host: str = "0.0.0.0"
    port: int = 4840
    path: str = "/inspector"
    namespace: str = DEFAULT_NAMESPACE
    server_name: str = ""  # "" = "Inspector <station>"
    security: tuple[str, ...] = ("None",)
    certificate: Path | None = None
    private_key: Path | None = None
    armed: bool = False  # Trigger accepted from the start (else a client calls Start first)
    start_timeout_s: float = 30.0

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}{self.path}"

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> OpcuaConfig:
        unknown = sorted(set(section) - set(KEYS))
        if unknown:
            raise OpcuaError(f"plugins.opcua: unknown setting(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
        values: dict[str, Any] = {}
        if section.get("endpoint"):
            url = urlparse(str(section["endpoint"]))
            if url.scheme != "opc.tcp" or not url.hostname:
                raise OpcuaError(f"plugins.opcua.endpoint must look like opc.tcp://host:4840/path, "
                                 f"not {section['endpoint']!r}")
            values.update(host=url.hostname, port=url.port or 4840, path=url.path or "")
        for key in ("host", "path", "namespace", "server_name"):
            if key in section and key not in values:
                values[key] = str(section[key])
        if "port" in section and "endpoint" not in section:
            values["port"] = section["port"]
        try:
            port = int(values.get("port", cls.port))
        except (TypeError, ValueError):
            raise OpcuaError(f"plugins.opcua.port must be a number, not {values.get('port')!r}") from None
        if not 0 <= port <= 65535:
            raise OpcuaError(f"plugins.opcua.port must be 0..65535, not {port}")
        values["port"] = port
        security = section.get("security", ["None"])
        security = [security] if isinstance(security, str) else list(security)
        bad = [s for s in security if s not in POLICIES]
        if bad or not security:
            raise OpcuaError(f"plugins.opcua.security: unknown policy {', '.join(map(str, bad)) or '(empty)'}; "
                             f"choose from {', '.join(POLICIES)}")
        values["security"] = tuple(security)
        for key in ("certificate", "private_key"):
            if section.get(key):
                path = Path(str(section[key])).expanduser()
                if not path.is_file():
                    raise OpcuaError(f"plugins.opcua.{key}: no file {path}")
                values[key] = path
        if any(s != "None" for s in security) and not (values.get("certificate") and values.get("private_key")):
            raise OpcuaError("plugins.opcua: a signing/encrypting security policy needs certificate and "
                             "private_key (the server's own, DER or PEM)")
        values["armed"] = bool(section.get("armed", False))
        try:
            values["start_timeout_s"] = float(section.get("start_timeout_s", cls.start_timeout_s))
        except (TypeError, ValueError):
            raise OpcuaError("plugins.opcua.start_timeout_s must be a number of seconds") from None
        return cls(**values)
