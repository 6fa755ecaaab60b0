"""Write the JSON schema of the shared ``ProgressEvent`` for the web UI, so Python and TypeScript share one schema.

    python -m core.schema_export            # writes web/src/api/progress-event.schema.json
    python -m core.schema_export --check    # exits 1 when the file is stale

The UI's hand-written TypeScript type is checked against this file by a vitest unit test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.contracts import ProgressEvent

TARGET = Path(__file__).resolve().parents[1] / "web" / "src" / "api" / "progress-event.schema.json"


def progress_event_schema() -> str:
    return json.dumps(ProgressEvent.model_json_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = progress_event_schema()
    if "--check" in args:
        if not TARGET.is_file() or TARGET.read_text() != text:
            print(f"{TARGET} is stale: run `python -m core.schema_export`", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
