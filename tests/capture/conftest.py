"""Fixtures for the capture tests: real Xvfb desktops from tests/desktop.py."""

try:  # tests/ is a package when the suite grows a tests/__init__.py
    from tests.desktop import desktop
except ModuleNotFoundError:  # otherwise tests/ itself is on sys.path (rootdir-relative)
    from desktop import desktop  # type: ignore[no-redef,import-not-found]

__all__ = ["desktop"]
