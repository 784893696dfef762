"""Reading the health server as a monitor would: plain HTTP, and Prometheus's own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.health import HealthServer

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def fetch(server: HealthServer, path: str, method: str = "GET") -> httpx.Response:
    # trust_env off: a developer's HTTP_PROXY must not route loopback through a proxy.
    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.request(method, f"http://127.0.0.1:{server.port}{path}")


def parse(text: str) -> Samples:
    """Every sample of an exposition, by (sample name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return (value(after, name, **labels) or 0.0) - (value(before, name, **labels) or 0.0)
