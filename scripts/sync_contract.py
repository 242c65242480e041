"""Copy contract/openapi.yaml, as JSON, into each Space folder (each is uploaded alone).

python scripts/sync_contract.py           write the copies
python scripts/sync_contract.py --check   exit 1 if a copy differs from the contract
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "contract" / "openapi.yaml"
# Where each reader of the contract finds its own copy.
COPIES = (
    ROOT / "python-backend" / "app" / "openapi.json",  # served at /openapi.json
    ROOT / "nodejs-backend" / "src" / "openapi.json",  # served at /openapi.json
    ROOT / "hfspace" / "contract" / "openapi.json",  # the installed tool's (`hfspace check`)
)


def rendered() -> str:
    return json.dumps(yaml.safe_load(SOURCE.read_text()), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report copies that differ")
    args = parser.parse_args()
    expected = rendered()
    stale = [copy for copy in COPIES if not copy.is_file() or copy.read_text() != expected]
    if args.check:
        for copy in stale:
            print(f"{copy.relative_to(ROOT)} differs from contract/openapi.yaml: run `make contract`", file=sys.stderr)
        return 1 if stale else 0
    for copy in stale:
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(expected)
        print(f"wrote {copy.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
