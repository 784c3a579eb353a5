"""Scale-out by shard: N agents split the targets by a stable hash, each with its own store.

A target belongs to shard ``jump_hash(blake2b(name), count)`` (Lamping & Veach, "A Fast, Minimal Memory,
Consistent Hash Algorithm", 2014): the same name always lands on the same shard on every machine and
Python version, and growing the count from n to n+1 moves only about 1/(n+1) of the targets, each of
them onto the new shard. No coordination between agents is needed; Prometheus aggregates their metrics.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TypeVar

from agent.config import ShardConfig, TargetConfig
from agent.errors import ConfigError

__all__ = ["select_targets", "shard_index_from_env_or_hostname", "shard_of", "stable_key"]

_MASK64 = (1 << 64) - 1
# The 64-bit linear congruential step from the paper; its constants define the mapping, so never change.
_LCG_MULTIPLIER = 2862933555777941757
# A StatefulSet pod is named "<statefulset>-<ordinal>"; the ordinal is the pod's stable identity.
_ORDINAL = re.compile(r"-(\d+)$")

T = TypeVar("T", bound=TargetConfig)


def stable_key(name: str) -> int:
    """A 64-bit key from the name that never depends on PYTHONHASHSEED, platform or version."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def _jump(key: int, buckets: int) -> int:
    """Jump consistent hash: the bucket in [0, buckets) for a 64-bit key."""
    bucket, candidate = -1, 0
    while candidate < buckets:
        bucket = candidate
        key = (key * _LCG_MULTIPLIER + 1) & _MASK64
        # The paper computes this in floating point; exact integer division gives the same jumps without
        # depending on float rounding, so every platform agrees bit for bit.
        candidate = ((bucket + 1) << 31) // ((key >> 33) + 1)
    return bucket


def shard_of(target_name: str, count: int) -> int:
    """The shard in [0, count) that owns the named target."""
    if count < 1:
        raise ValueError(f"shard count must be at least 1, got {count}")
    return _jump(stable_key(target_name), count)


def shard_index_from_env_or_hostname(config_index: int | None, hostname: str) -> int | None:
    """This agent's shard index: ``shard.index`` (file or CAPMON_SHARD__INDEX), else the pod ordinal."""
    if config_index is not None:
        return config_index
    match = _ORDINAL.search(hostname.split(".", 1)[0])
    return int(match.group(1)) if match else None


def select_targets(targets: Sequence[T], shard_config: ShardConfig, hostname: str) -> list[T]:
    """The targets this agent probes: all of them unsharded, else those whose hash falls in its shard."""
    count = shard_config.count
    if count == 1:
        return list(targets)
    index = shard_index_from_env_or_hostname(shard_config.index, hostname)
    if index is None:
        raise ConfigError(
            "config",
            "shard.index",
            f"shard.count is {count} but no shard.index is set and hostname {hostname!r} "
            "has no StatefulSet ordinal suffix (-N)",
        )
    if index >= count:
        problem = f"shard index {index} (hostname {hostname!r}) must be below count {count}"
        raise ConfigError("config", "shard.index", problem)
    return [t for t in targets if shard_of(t.name, count) == index]
