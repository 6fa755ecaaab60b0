"""devtools/audit.py reads each tool's JSON: an audit that skipped packages (no advisory database) is never clean."""

from __future__ import annotations

from devtools.audit import read_npm_audit, read_pip_audit


def test_skipped_packages_are_not_a_clean_audit() -> None:
    """Tried: what pip-audit writes offline (every package skipped, "No known vulnerabilities found")."""
    offline = {"dependencies": [{"name": f"p{i}", "version": "1", "skip_reason": "Connection refused"}
                                for i in range(202)]}  # fmt: skip
    v = read_pip_audit(offline)
    assert v.state == "unchecked" and v.skipped == 202 and "NOT CHECKED" in v.line()
    ok = read_pip_audit({"dependencies": [{"name": "a", "version": "1", "vulns": []}]})
    assert ok.state == "clean"
    bad = read_pip_audit({"dependencies": [{"name": "a", "version": "1", "vulns": [{"id": "GHSA-x"}]}]})
    assert bad.state == "vulnerable" and "GHSA-x" in bad.line()


def test_npm_network_error_is_unchecked() -> None:
    v = read_npm_audit({"error": {"code": "ENOTFOUND", "summary": "request to registry failed"}})
    assert v.state == "unchecked" and "NOT CHECKED" in v.line()
    clean = read_npm_audit({"metadata": {"vulnerabilities": {"high": 0}, "dependencies": {"total": 300}}})
    assert clean.state == "clean"


def test_ci_runs_the_audit_before_the_tests() -> None:
    """Tried: the CI entry script (.ci/run) -> it runs ``devtools.audit --allow-offline`` (unreachable databases
    are said, not failed; vulnerabilities fail) after lint and before ``make test``, under ``set -e``."""
    from pathlib import Path

    lines = [ln.strip() for ln in (Path(__file__).parents[2] / ".ci" / "run").read_text().splitlines()]
    audit = lines.index("python3 -m uv run python -m devtools.audit --allow-offline")
    assert lines.index("make lint") < audit < lines.index("make test")
    assert "set -euo pipefail" in lines
