"""The ganeval version (a core module: results and provenance record it without importing
the package's public API)."""

__version__ = "0.2.0"
