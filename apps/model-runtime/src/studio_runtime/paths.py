"""Filesystem locations: the app folder, its cache, the repository root and the contracts."""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[2]


def repo_root() -> Path:
    """The monorepo root (the nearest ancestor of the app holding ``nx.json``)."""
    override = os.environ.get("STUDIO_REPO_ROOT")
    if override:
        return Path(override)
    for parent in APP_DIR.parents:
        if (parent / "nx.json").exists():
            return parent
    return APP_DIR.parents[1]


def cache_dir() -> Path:
    """Where locally built or converted base models live (``apps/model-runtime/.cache``)."""
    path = Path(os.environ.get("STUDIO_RUNTIME_CACHE", APP_DIR / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def contracts_schema_dir() -> Path:
    return repo_root() / "libs" / "contracts" / "json-schema"
