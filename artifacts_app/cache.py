"""Django's Redis cache (the `REDIS_URL` cache of settings.py), with its client made once per
connection pool and `incr` in one round trip.

The API's throttle increments a counter on every request (`security._hit`). Django's backend
builds a new `redis.Redis` object for every call and asks `EXISTS` before `INCRBY` (two round
trips, not atomic): 177 us of CPU per increment, 59 here; `latest` 1,373 -> 1,782 req/s with
Redis (benchmarks/README.md). Everything else is Django's."""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

# INCRBY on an existing key only: Django's contract for incr() is ValueError on a missing key.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class _Client(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}
        self._incr_script = None

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:  # redis.Redis is thread-safe: each command takes a pooled connection
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        if self._incr_script is None:
            self._incr_script = client.register_script(_INCR_EXISTING)
        value = self._incr_script(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class SharedRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client
