import random

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from shared.partitioner import kafka_partition, murmur2


def test_the_hash_is_aiokafkas_for_every_length_and_byte() -> None:
    generator = random.Random(19)
    keys = [bytes(generator.randrange(256) for _ in range(length)) for length in range(80) for _ in range(50)]
    keys += [b"\xff" * 37, b"\x80\x00\x00\x01"]
    assert [murmur2(key) for key in keys] == [aiokafka_murmur2(key) for key in keys]


def test_a_key_goes_to_the_partition_aiokafka_would_choose() -> None:
    need_ids = [f"{random.Random(n).getrandbits(128):032x}".encode() for n in range(500)]
    for partitions in ([0], list(range(3)), list(range(12))):
        ours = [kafka_partition(key, partitions, partitions) for key in need_ids]
        assert ours == [DefaultPartitioner()(key, partitions, partitions) for key in need_ids]
    assert kafka_partition(None, [0, 1, 2], [1]) == 1
