"""Sign-in throttling shared through Redis (``PARTNERING_RATE_LIMIT_STORAGE=redis://...``) across processes.

Needs the Redis server at ``PARTNERING_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379``): outside CI the tests
skip with a reason when it does not answer; on CI (``CI=true``) they fail instead, as the PostgreSQL tests do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from partnering.web.auth import LoginRateLimiter

pytestmark = [pytest.mark.integration, pytest.mark.redis]

CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("PARTNERING_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@test.nhs.uk"


@pytest.fixture
def redis_url() -> str:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure to reach it means "no server"
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if CI:
            pytest.fail(f"Redis at {REDIS_URL} is required on CI: {why}")
        pytest.skip(f"no Redis server answers at {REDIS_URL}: {why}")
    return REDIS_URL


def test_redis_storage_shares_the_count_across_processes(redis_url):
    email = _email()
    worker = (
        "import sys\n"
        "from partnering.web.auth import LoginRateLimiter\n"
        "lim = LoginRateLimiter(max_failures=5, storage_uri=sys.argv[1])\n"
        "for _ in range(5):\n"
        "    lim.failure(sys.argv[2], '10.1.1.1')\n"
    )
    subprocess.run([sys.executable, "-c", worker, redis_url, email], check=True, timeout=60)
    here = LoginRateLimiter(max_failures=5, storage_uri=redis_url)
    try:
        wait = here.retry_after(email, "10.1.1.1")
        assert 1 <= wait <= 15 * 60 + 1
        assert here.retry_after(email, "10.1.1.2") == 0
        # a memory-backed limiter in this process has seen none of it
        assert LoginRateLimiter(max_failures=5, storage_uri="memory://").retry_after(email, "10.1.1.1") == 0
    finally:
        here.success(email, "10.1.1.1")
    assert here.retry_after(email, "10.1.1.1") == 0


def test_redis_keys_do_not_hold_email_addresses(redis_url):
    import redis

    email = _email()
    lim = LoginRateLimiter(storage_uri=redis_url)
    lim.failure(email, "10.1.1.1")
    try:
        keys = [k.decode() for k in redis.Redis.from_url(redis_url).scan_iter(match="*partnering-signin*")]
        assert keys and not any(email in k for k in keys)
    finally:
        lim.success(email, "10.1.1.1")
