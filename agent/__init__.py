"""capmon's agent: the daemon that probes model endpoints and exports what it finds."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("capmon")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
