"""Sign-in throttling through the ``limits`` package, in-process (the default storage).

The shared Redis storage is tested in ``tests/integration/test_login_rate_limit_redis.py``.
"""

from __future__ import annotations

import time
import uuid

import pytest

from partnering.errors import ConfigError
from partnering.web.auth import LoginRateLimiter

pytestmark = pytest.mark.unit


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@test.nhs.uk"


def test_five_failures_block_that_email_from_that_address_only():
    lim = LoginRateLimiter(storage_uri="memory://")
    email = _email()
    for i in range(5):
        assert lim.retry_after(email, "10.0.0.1") == 0, i
        lim.failure(email, "10.0.0.1")
    wait = lim.retry_after(email, "10.0.0.1")
    assert 1 <= wait <= 15 * 60 + 1
    assert lim.retry_after(_email(), "10.0.0.1") == 0  # another account from the same address
    assert lim.retry_after(email, "10.0.0.2") == 0  # the same account from elsewhere


def test_email_is_compared_without_case_or_spaces():
    lim = LoginRateLimiter(max_failures=2, storage_uri="memory://")
    email = _email()
    lim.failure(email, "ip")
    lim.failure(f"  {email.upper()} ", "ip")
    assert lim.retry_after(email, "ip") > 0


def test_success_clears_the_count():
    lim = LoginRateLimiter(max_failures=3, storage_uri="memory://")
    email = _email()
    for _ in range(2):
        lim.failure(email, "ip")
    lim.success(email, "ip")
    for _ in range(2):
        lim.failure(email, "ip")
    assert lim.retry_after(email, "ip") == 0  # 2 of 3 since the success, not 4


def test_the_window_moves():
    lim = LoginRateLimiter(max_failures=2, window=1, storage_uri="memory://")
    email = _email()
    lim.failure(email, "ip")
    lim.failure(email, "ip")
    assert lim.retry_after(email, "ip") >= 1
    time.sleep(1.2)
    assert lim.retry_after(email, "ip") == 0


def test_storage_comes_from_the_setting(monkeypatch):
    monkeypatch.delenv("PARTNERING_RATE_LIMIT_STORAGE", raising=False)
    assert LoginRateLimiter().storage_uri == "memory://"
    monkeypatch.setenv("PARTNERING_RATE_LIMIT_STORAGE", "memory://?from=setting")
    assert LoginRateLimiter().storage_uri == "memory://?from=setting"


@pytest.mark.parametrize("uri", ["nosuchstore://x", "redis://127.0.0.1:1"])
def test_a_wrong_storage_is_a_config_error(uri):
    with pytest.raises(ConfigError, match="rate-limit storage"):
        LoginRateLimiter(storage_uri=uri)


def test_in_memory_counts_are_per_limiter():
    """Two server processes with the default storage each keep their own count (the documented limitation)."""
    a, b = LoginRateLimiter(max_failures=2, storage_uri="memory://"), LoginRateLimiter(max_failures=2,
                                                                                       storage_uri="memory://")
    email = _email()
    a.failure(email, "ip")
    a.failure(email, "ip")
    assert a.retry_after(email, "ip") > 0 and b.retry_after(email, "ip") == 0
