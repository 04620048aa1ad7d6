"""Typed keys of the notifier application's resources (the shared ones come from common)."""

from aiohttp import web

from common.resources import RESOURCES, SETTINGS
from notifier.hub import Hub
from notifier.sockets import OpenSockets

__all__ = ["HUB", "RESOURCES", "SETTINGS", "SOCKETS"]

HUB = web.AppKey("hub", Hub)
SOCKETS = web.AppKey("sockets", OpenSockets)
