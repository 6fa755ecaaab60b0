"""The error tree drawn in core/errors.py's docstring is the tree of its classes (httpx checks its own likewise)."""

from __future__ import annotations

import inspect
import re

import core.errors as errors

_NODE = re.compile(r"^(?P<pipes>(?:│   |    )*)(?:[├└]── )?(?P<name>[A-Z]\w*Error)\b")


def drawn_tree(doc: str) -> dict[str, str | None]:
    """``{class: parent}`` from the docstring's box drawing (the root's parent is None)."""
    lines = [ln[4:] for ln in doc.splitlines() if ln.startswith("    ") and "Error" in ln]
    parents: dict[str, str | None] = {}
    path: list[str] = []
    for line in lines:
        m = _NODE.match(line)
        assert m, f"not a tree line: {line!r}"
        depth = len(m["pipes"]) // 4 + (line[len(m["pipes"]) :].startswith(("├", "└")))
        del path[depth:]
        parents[m["name"]] = path[-1] if path else None
        path.append(m["name"])
    return parents


def module_tree() -> dict[str, str | None]:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    return {c.__name__: (None if c is errors.PipelineError else c.__bases__[0].__name__) for c in classes}


def test_docstring_tree_matches_the_classes() -> None:
    """Tried: every class defined in core.errors, with its base; a class missing from the drawing (StorageError,
    ClipsFailedError and BudgetError once were) or drawn under the wrong parent fails."""
    assert errors.__doc__
    assert drawn_tree(errors.__doc__) == module_tree()


def test_all_lists_every_class_and_is_transient() -> None:
    assert sorted(errors.__all__) == sorted([*module_tree(), "is_transient"])


def test_tree_parser_sees_nesting_and_drift() -> None:
    """The checker itself: a nested child gets its parent, and a drifted drawing compares unequal."""
    doc = """x

    PipelineError
    ├── ProviderError              a vendor failed
    │   └── TransientProviderError retried
    └── AudioError
"""
    assert drawn_tree(doc) == {
        "PipelineError": None,
        "ProviderError": "PipelineError",
        "TransientProviderError": "ProviderError",
        "AudioError": "PipelineError",
    }
    assert drawn_tree(doc) != module_tree()
