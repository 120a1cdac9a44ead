"""The request's transaction commits before its response is sent (found by the soak, issue 9)."""

from __future__ import annotations

from typing import get_args

from billpact.api.deps import SessionDep, session


def test_the_session_dependency_commits_before_the_response_goes_out() -> None:
    # FastAPI runs a yield dependency's exit (our commit) after sending the response unless its scope is
    # "function": a client could get its 201 and not find what it created, or a 2xx for a failed commit.
    dependency = get_args(SessionDep)[1]
    assert dependency.dependency is session
    assert dependency.scope == "function"
