"""The partition of a keyed record: Kafka's own choice (murmur2 of the key), for less CPU.

aiokafka hashes every key byte by byte in Python, once for each record a need causes
(docs/performance-notes.md). This gives the partition aiokafka's ``DefaultPartitioner`` (and
the Java client) gives every key, hashing four bytes at a time, and not at all for a topic of
one partition (every agency queue).
"""

import random
import struct
from collections.abc import Sequence

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash of ``data`` (``org.apache.kafka.common.utils.Utils.murmur2``)."""
    length = len(data)
    whole = length & ~3
    h = _SEED ^ length
    for (k,) in struct.iter_unpack("<I", data[:whole]):
        k = (k * _M) & _MASK
        k = ((k ^ (k >> 24)) * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    extra = length - whole
    if extra >= 3:
        h ^= data[whole + 2] << 16
    if extra >= 2:
        h ^= data[whole + 1] << 8
    if extra >= 1:
        h = ((h ^ data[whole]) * _M) & _MASK
    h = ((h ^ (h >> 13)) * _M) & _MASK
    return h ^ (h >> 15)


def kafka_partition(key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
    """The partition aiokafka's ``DefaultPartitioner`` picks: by the key's hash, at random without a key."""
    if key is None:
        return random.choice(available or all_partitions)
    if len(all_partitions) == 1:
        return all_partitions[0]
    return all_partitions[(murmur2(key) & 0x7FFFFFFF) % len(all_partitions)]
