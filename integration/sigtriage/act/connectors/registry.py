"""The connectors configured in `triage.connectors`, built once and checked before any alert is processed.

A configuration mistake (a missing environment variable, an unreadable CA bundle, a URL with credentials in
it) is a UsageError at start-up, not a failed action halfway through a playbook. Secrets never appear in these
errors: the schema is checked on a copy with secret values blanked, and a missing variable is named, not shown.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sigtriage.act.connectors._http import HttpSettings
from sigtriage.act.connectors.base import Connector
from sigtriage.act.connectors.defender import (
    DEFAULT_API,
    DEFAULT_LOGIN,
    DEFAULT_SCOPE,
    DefenderConfig,
    DefenderConnector,
)
from sigtriage.act.connectors.secret import HEADER_SAFE, MIN_LENGTH, Secret
from sigtriage.act.connectors.thehive import TheHiveConfig, TheHiveConnector
from sigtriage.act.connectors.webhook import WebhookConfig, WebhookConnector
from sigtriage.config.validate import validate
from sigtriage.errors import UsageError
from sigtriage.model.decision import ActionKind
from sigtriage.net import NetConfig, Resolver, system_resolver

SECTION = "triage.connectors"
_SECRET_KEYS = frozenset({"api_key", "client_secret", "secret"})


def build_connectors(
    config: Mapping[str, Any] | None,
    *,
    net: NetConfig | None = None,
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    resolver: Resolver = system_resolver,
) -> dict[str, Connector]:
    """{name: connector} for the `triage.connectors` section `config`.

    `net` (the top-level net settings) gives the default timeouts, proxies and CA bundle, never its allowlists:
    each connector allows only its own hosts. `base_dir` anchors a relative ca_bundle (the configuration
    file's folder). `environ` defaults to os.environ.
    """
    document: Any = {} if config is None else config
    validate(_blanked(document), "connectors", source=SECTION)
    env = os.environ if environ is None else environ
    builders: dict[str, Callable[[Mapping[str, Any], _Context], Connector]] = {
        "thehive": _thehive,
        "defender": _defender,
        "webhook": _webhook,
    }
    context = _Context(net or NetConfig(), base_dir, env, resolver)
    connectors: dict[str, Connector] = {}
    for name, section in document.items():
        try:
            connectors[name] = builders[name](section, context)
        except UsageError as exc:
            if exc.context:
                raise
            # errors from the transport name net.* settings; here they belong to this connector's section
            raise UsageError(exc.message, context=f"{SECTION}.{name}") from None
    return connectors


@dataclass(frozen=True)
class _Context:
    net: NetConfig
    base_dir: Path | None
    env: Mapping[str, str] = field(repr=False)
    resolver: Resolver

    def http(self, section: Mapping[str, Any]) -> HttpSettings:
        ca_bundle = section.get("ca_bundle")
        if ca_bundle is not None and self.base_dir is not None:
            ca_bundle = str(self.base_dir / ca_bundle)
        return HttpSettings(
            connect_timeout=section.get("connect_timeout", self.net.connect_timeout),
            read_timeout=section.get("read_timeout", self.net.read_timeout),
            total_timeout=section.get("total_timeout", self.net.total_timeout),
            proxies=section.get("proxies", self.net.proxies),
            ca_bundle=ca_bundle if ca_bundle is not None else self.net.ca_bundle,
        )

    def secret(self, section: Mapping[str, Any], key: str, where: str) -> Secret:
        """The secret given inline as `key` or in the environment variable named by `key`_env."""
        inline, variable = section.get(key), section.get(f"{key}_env")
        if (inline is None) == (variable is None):
            raise UsageError(f"set exactly one of {key} and {key}_env", context=where)
        if variable is not None:
            value, origin = self.env.get(variable, ""), f"environment variable {variable}"
            if not value:
                raise UsageError(f"{key}_env: environment variable {variable} is not set or empty", context=where)
        elif isinstance(inline, str):
            value, origin = inline, key
        else:
            raise UsageError(f"{key} must be a string", context=where)
        if len(value) < MIN_LENGTH:
            raise UsageError(f"{origin}: a secret needs at least {MIN_LENGTH} characters", context=where)
        return Secret(value)


def _thehive(section: Mapping[str, Any], context: _Context) -> Connector:
    where = f"{SECTION}.thehive"
    api_key = context.secret(section, "api_key", where)
    if not HEADER_SAFE.fullmatch(api_key.reveal()):
        raise UsageError("the API key contains spaces or non-ASCII characters: check how it was copied", context=where)
    config = TheHiveConfig(
        url=_base_url(section["url"], f"{where}.url"),
        api_key=api_key,
        organisation=section.get("organisation"),
        close_status=section.get("close_status", "FalsePositive"),
        http=context.http(section),
    )
    return TheHiveConnector(config, resolver=context.resolver)


def _defender(section: Mapping[str, Any], context: _Context) -> Connector:
    where = f"{SECTION}.defender"
    config = DefenderConfig(
        tenant_id=section["tenant_id"],
        client_id=section["client_id"],
        client_secret=context.secret(section, "client_secret", where),
        api_url=_base_url(section.get("api_url", DEFAULT_API), f"{where}.api_url"),
        login_url=_base_url(section.get("login_url", DEFAULT_LOGIN), f"{where}.login_url"),
        scope=section.get("scope", DEFAULT_SCOPE),
        isolation_type=section.get("isolation_type", "Full"),
        indicator_action=section.get("indicator_action", "BlockAndRemediate"),
        http=context.http(section),
    )
    return DefenderConnector(config, resolver=context.resolver)


def _webhook(section: Mapping[str, Any], context: _Context) -> Connector:
    where = f"{SECTION}.webhook"
    config = WebhookConfig(
        url=_base_url(section["url"], f"{where}.url", allow_query=True),
        secret=context.secret(section, "secret", where),
        kinds=frozenset(ActionKind(k) for k in section.get("kinds", ["notify"])),
        http=context.http(section),
    )
    return WebhookConnector(config, resolver=context.resolver)


def _base_url(url: str, where: str, *, allow_query: bool = False) -> str:
    """`url` if it is an http(s) URL with an ASCII host and nothing that would carry a credential."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # ValueError for a malformed or out-of-range port
    except ValueError:
        raise UsageError("not a valid URL", context=where) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("must be an http:// or https:// URL with a host", context=where)
    if "@" in parts.netloc:
        # never echo the URL: its userinfo is a credential
        raise UsageError("credentials in the URL are not allowed; use the api_key/secret settings", context=where)
    if not parts.hostname.isascii():
        raise UsageError("write an internationalised host name in its ASCII (punycode) form", context=where)
    if parts.fragment or (parts.query and not allow_query):
        raise UsageError("a base URL takes no query string or fragment", context=where)
    return url


def _blanked(document: Any) -> Any:
    """A copy to validate: schema errors quote the offending value, so secret and proxy values are replaced."""
    if not isinstance(document, Mapping):
        return document  # the schema refuses it, quoting nothing secret

    def blank(key: str, value: Any) -> Any:
        if key in _SECRET_KEYS:
            return "<secret>"  # its type is checked in code, with a message that does not quote it
        if key == "proxies":
            if isinstance(value, Mapping):
                return {k: "<proxy>" if isinstance(v, str) else v for k, v in value.items()}
            return "<proxy>" if isinstance(value, str) else value
        return value

    return {
        name: {k: blank(k, v) for k, v in section.items()} if isinstance(section, Mapping) else section
        for name, section in document.items()
    }
