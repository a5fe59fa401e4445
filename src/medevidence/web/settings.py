"""Settings of the web app as declared data: each has a name, a default and a help line.

They are passed to :func:`medevidence.web.create_app` (the ``serve`` command maps its options
onto them); nothing here reads the environment, so a test builds an app with exactly the limits
it names.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields, replace
from typing import Any

from .. import ConfigError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class WebSettings:
    max_request_kb: int = 1024
    max_upload_mb: float = 100.0
    max_upload_files: int = 50
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 60
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    secret: str = ""
    page_size: int = 50

    @property
    def max_request_bytes(self) -> int:
        return self.max_request_kb * 1024

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1_000_000)


HELP: dict[str, str] = {
    "max_request_kb": "Largest request body accepted outside uploads (questions, forms), in KiB; larger gets 413.",
    "max_upload_mb": "Largest upload request (all files together), in MB; larger gets 413. Each file is also "
    "held to the library's max_file_mb.",
    "max_upload_files": "Most files one upload may carry.",
    "rate_limit_per_minute": "Requests each client address may make per minute, on average; 0 turns the limit off.",
    "rate_limit_burst": "Requests a client may make at once before the per-minute rate applies.",
    "allowed_hosts": "Host names the server answers to (a guard against DNS rebinding); '*' allows any.",
    "secret": "Key that signs form tokens (CSRF). Empty: a random key per process, so forms opened before a "
    "restart must be reloaded.",
    "page_size": "Documents per page on the library page.",
}


def describe() -> list[tuple[str, str, Any]]:
    """``(name, help, default)`` for every web setting, for docs."""
    defaults = WebSettings()
    return [(f.name, HELP[f.name], getattr(defaults, f.name)) for f in fields(WebSettings)]


def web_settings(**overrides: Any) -> WebSettings:
    """Defaults with ``overrides`` applied; unknown names and wrong types fail with a hint."""
    known = {f.name for f in fields(WebSettings)}
    settings = WebSettings()
    for name, raw in overrides.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"choose from {', '.join(sorted(known))}"
            raise ConfigError(f"unknown web setting '{name}'; {hint}")
        if raw is None:
            continue
        settings = replace(settings, **{name: _coerced(name, raw, getattr(settings, name))})
    for name in ("max_request_kb", "max_upload_mb", "max_upload_files", "page_size"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"web setting '{name}' must be positive, not {getattr(settings, name)!r}")
    for name in ("rate_limit_per_minute", "rate_limit_burst"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"web setting '{name}' must be 0 or more, not {getattr(settings, name)!r}")
    return settings


def _coerced(name: str, raw: Any, default: Any) -> Any:
    if isinstance(default, tuple):
        if isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):
            return tuple(raw)
        raise ConfigError(f"web setting '{name}' must be a list of strings, not {raw!r}")
    # bool is an int to Python, but True as a byte limit is a mistake worth reporting.
    accepted: tuple[type, ...] = (int, float) if isinstance(default, float) else (type(default),)
    if isinstance(raw, bool) or not isinstance(raw, accepted):
        raise ConfigError(f"web setting '{name}' must be a {type(default).__name__}, not {raw!r}")
    return type(default)(raw)
