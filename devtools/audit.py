"""Dependency audit for CI: ``python -m devtools.audit`` (pip-audit on the locked Python packages, npm audit on web/).

An audit that could not reach its advisory database is not a clean audit: ``pip-audit`` prints "No known
vulnerabilities found" after skipping every package it could not look up, and ``npm audit`` fails with a network
error. Here each tool's JSON is read, and the result is one of

    clean         every package was checked and none has a known vulnerability           exit 0
    vulnerable    the vulnerable packages are listed                                     exit 1
    unchecked     the advisory database was unreachable, or some packages were skipped:  exit 2 (``--allow-offline``:
                  said so plainly, never reported as clean                               exit 0, still said)

pip-audit runs through ``uv run --with pip-audit`` when it is not installed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
UV = ["python3", "-m", "uv"]  # as the Makefile runs it


@dataclass
class Verdict:
    tool: str
    checked: int = 0
    skipped: int = 0
    vulnerable: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def state(self) -> str:
        if self.vulnerable:
            return "vulnerable"
        if self.error or self.skipped or not self.checked:
            return "unchecked"
        return "clean"

    def line(self) -> str:
        if self.error:
            return f"{self.tool}: NOT CHECKED - {self.error}"
        text = f"{self.tool}: {self.checked} packages checked, {self.skipped} skipped"
        if self.vulnerable:
            return f"{text}; VULNERABLE: {', '.join(self.vulnerable)}"
        if self.skipped or not self.checked:
            return f"{text}; NOT CHECKED: the advisory database was not reachable for the skipped packages"
        return f"{text}; no known vulnerabilities"


def read_pip_audit(report: dict[str, Any]) -> Verdict:
    v = Verdict("pip-audit")
    for dep in report.get("dependencies", []):
        if dep.get("skip_reason"):
            v.skipped += 1
            continue
        v.checked += 1
        if dep.get("vulns"):
            ids = ",".join(x.get("id", "?") for x in dep["vulns"])
            v.vulnerable.append(f"{dep.get('name')} {dep.get('version')} ({ids})")
    return v


def read_npm_audit(report: dict[str, Any]) -> Verdict:
    v = Verdict("npm audit")
    if "error" in report:
        err = report["error"]
        v.error = f"{err.get('code', 'error')}: {err.get('summary', '')}".strip() if isinstance(err, dict) else str(err)
        return v
    meta = report.get("metadata", {})
    counts = meta.get("vulnerabilities", {})
    v.checked = int(meta.get("totalDependencies") or meta.get("dependencies", {}).get("total", 0) or 0)
    for name, info in (report.get("vulnerabilities") or {}).items():
        v.vulnerable.append(f"{name} ({info.get('severity', '?')})")
    if not v.vulnerable and any(counts.get(k) for k in ("low", "moderate", "high", "critical")):
        v.vulnerable.append(json.dumps(counts))
    return v


def _json(args: list[str], cwd: Path) -> dict[str, Any] | str:
    try:
        proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{args[0]} could not run: {exc}"
    try:
        out: dict[str, Any] = json.loads(proc.stdout or "{}")
        return out
    except json.JSONDecodeError:
        return (
            (proc.stderr or proc.stdout).strip().splitlines()[-1:][0] if (proc.stderr or proc.stdout) else "no output"
        )


def pip_audit() -> Verdict:
    req = subprocess.run([*UV, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    if req.returncode != 0:
        return Verdict("pip-audit", error="cannot export the locked requirements (uv export)")
    reqs = ROOT / ".venv" / "audit-requirements.txt"
    reqs.write_text(req.stdout)
    base = ["pip-audit"] if shutil.which("pip-audit") else [*UV, "run", "--with", "pip-audit", "pip-audit"]
    result = _json([*base, "-r", str(reqs), "--no-deps", "--disable-pip", "-f", "json", "--progress-spinner", "off"],
                   ROOT)  # fmt: skip
    if isinstance(result, str):
        return Verdict("pip-audit", error=result)
    return read_pip_audit(result)


def npm_audit() -> Verdict:
    if not shutil.which("npm"):
        return Verdict("npm audit", error="npm is not installed")
    result = _json(["npm", "audit", "--json", "--package-lock-only"], ROOT / "web")
    if isinstance(result, str):
        return Verdict("npm audit", error=result)
    return read_npm_audit(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pip-audit + npm audit, honest about what was not checked")
    parser.add_argument("--allow-offline", action="store_true", help="exit 0 when a database was unreachable")
    args = parser.parse_args(argv)
    verdicts = [pip_audit(), npm_audit()]
    for v in verdicts:
        print(v.line())
    states = {v.state for v in verdicts}
    if "vulnerable" in states:
        return 1
    if "unchecked" in states:
        print("audit: INCOMPLETE - some dependencies were not checked against an advisory database")
        return 0 if args.allow_offline else 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
