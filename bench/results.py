"""Where a bench run's figures go: bench/results/<name>-<UTC time>.json (git-ignored), with the
machine and its load beside them."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def save_results(name: str, figures: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"{name}-{stamp}.json"
    machine = {"python": platform.python_version(), "cpus": os.cpu_count()}
    payload = {"machine": machine, "load_average": os.getloadavg(), **figures}
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return out
