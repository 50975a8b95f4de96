"""Errors with a stable ``type`` used in the ``failed`` progress event."""

from __future__ import annotations


class RuntimeFailure(Exception):
    """Base class: ``kind`` ends up as ``failed.error.type``."""

    kind = "runtime_error"


class ConfigError(RuntimeFailure):
    kind = "config_error"


class DatasetError(RuntimeFailure):
    kind = "dataset_error"


class ModelError(RuntimeFailure):
    kind = "model_error"


class Cancelled(RuntimeFailure):
    kind = "cancelled"
