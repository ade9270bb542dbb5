"""Connectors: carry out planned actions on TheHive, Microsoft Defender for Endpoint or any SOAR via a webhook.

Every HTTP call goes through `sigtriage.net.SafeSession`, locked to the connector's configured hosts; see
docs/connectors.md for configuration, actions, permissions and idempotency.
"""

from sigtriage.act.connectors.base import Connector, InvalidAction, MemoryConnector
from sigtriage.act.connectors.defender import DefenderConfig, DefenderConnector
from sigtriage.act.connectors.registry import build_connectors
from sigtriage.act.connectors.secret import Secret
from sigtriage.act.connectors.thehive import TheHiveConfig, TheHiveConnector
from sigtriage.act.connectors.webhook import WebhookConfig, WebhookConnector, signature

__all__ = [
    "Connector",
    "DefenderConfig",
    "DefenderConnector",
    "InvalidAction",
    "MemoryConnector",
    "Secret",
    "TheHiveConfig",
    "TheHiveConnector",
    "WebhookConfig",
    "WebhookConnector",
    "build_connectors",
    "signature",
]
