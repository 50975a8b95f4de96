"""Alignment Studio model runtime."""

__version__ = "0.1.0"
