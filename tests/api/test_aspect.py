"""POST /api/jobs form fields -> JobRequest: the output format (``aspect``), checked before anything is stored."""

from __future__ import annotations

import pytest

from api.errors import Problem
from api.routes.jobs import _request
from core.limits import limits_of
from core.settings import Settings


@pytest.mark.parametrize(("given", "expected"), [(None, "16:9"), ("", "16:9"), ("9:16", "9:16"), ("1:1", "1:1")])
def test_aspect_field_is_the_requests_format(given: str | None, expected: str) -> None:
    """Form without the field, with it empty, with each vertical/square value."""
    fields = {"prompt": "a fox"} | ({} if given is None else {"aspect": given})
    assert _request(fields, Settings()).aspect == expected


@pytest.mark.parametrize("bad", ["4:3", "portrait", "9:16\x00"])
def test_unknown_aspect_is_a_422_naming_the_formats(bad: str) -> None:
    """4:3, a word, and a NUL byte: 422 before the upload is kept or a flow run starts."""
    with pytest.raises(Problem) as info:
        _request({"prompt": "a fox", "aspect": bad}, Settings())
    assert info.value.status == 422 and "aspect" in info.value.detail
    assert "\x00" in bad or "'16:9', '9:16' or '1:1'" in info.value.detail


def test_limits_tell_the_ui_the_formats() -> None:
    assert limits_of(Settings()).aspects == ["16:9", "9:16", "1:1"]
