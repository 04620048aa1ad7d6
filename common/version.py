"""The installed package version, for logs, the OpenAPI document and /healthz."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("revotp")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0"
