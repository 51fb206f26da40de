"""The suite's conftest refuses tests that do not declare exactly one kind (unit, integration, e2e).

Each case runs pytest (``pytester``) on a small generated test file, with the suite's own ``tests/conftest.py``
copied in as the conftest, so the hook under test is the real one. Each run is a subprocess: in-process runs
nest the browser plugin's per-test state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SUITE_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


@pytest.fixture
def suite(pytester):
    pytester.makeconftest(SUITE_CONFTEST.read_text())
    pytester.makeini("""
        [pytest]
        addopts = --strict-markers
        markers =
            unit: kind
            integration: kind
            e2e: kind
            shared: needs ../shared
    """)
    return pytester


def test_unmarked_tests_fail_the_collection_and_are_named(suite):
    suite.makepyfile(test_mixed="""
        import pytest

        def test_has_no_kind():
            pass

        @pytest.mark.unit
        def test_is_a_unit_test():
            pass

        @pytest.mark.shared
        def test_shared_is_not_a_kind():
            pass
    """)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "2 test(s) must carry exactly one of the markers unit, integration, e2e" in err
    assert "test_mixed.py::test_has_no_kind (no kind)" in err
    assert "test_mixed.py::test_shared_is_not_a_kind (no kind)" in err
    assert "test_is_a_unit_test" not in err
    result.assert_outcomes()  # nothing ran


def test_two_kinds_on_one_test_are_refused(suite):
    suite.makepyfile(test_both="""
        import pytest

        pytestmark = pytest.mark.unit

        @pytest.mark.integration
        def test_claims_two_kinds():
            pass
    """)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "test_both.py::test_claims_two_kinds (integration, unit)" in result.stderr.str()


def test_module_level_marks_satisfy_the_check_and_the_tests_run(suite):
    suite.makepyfile(test_marked="""
        import pytest

        pytestmark = [pytest.mark.integration, pytest.mark.shared]

        def test_one():
            pass

        @pytest.mark.parametrize("x", [1, 2])
        def test_two(x):
            assert x
    """)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3)
