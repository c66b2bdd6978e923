"""CACHE_URL=redis://...: the settings give Django's RedisCache (the `redis` client of
requirements.txt), and the web processes count the API's throttles together in it."""

import pytest
import redis

from tests.redis_server import redis_server
from tests.web_server import get, production_web_server

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]


@pytest.fixture
def redis_url(tmp_path):
    with redis_server(tmp_path) as url:
        yield url


def test_the_web_processes_count_the_throttles_together_in_redis(redis_url):
    # Per day: the count's window (a calendar day) will not turn over between the four requests.
    with production_web_server(CACHE_URL=redis_url, WEB_PROCESSES="2", API_ANON_RATE="3/day") as base:
        statuses = [get(f"{base}/api/events/")[0] for _ in range(4)]

    counted = redis.Redis.from_url(redis_url)
    keys = counted.keys("*throttle_unauthenticated_*")
    assert statuses == [401, 401, 401, 429]
    assert [int(counted.get(key)) for key in keys] == [3], keys
