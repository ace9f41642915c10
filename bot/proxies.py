"""Which reverse proxies in front of Kyoso are believed about the client's address.

`KYOSO_TRUSTED_PROXIES` is either a hop count (`1`: exactly one proxy, which every request
passes through) or a comma-separated list of proxy addresses and networks
(`10.0.0.0/8, 192.0.2.7`). `X-Forwarded-For` is read only when the direct peer is trusted,
and from the right: each proxy appends the address it saw, so the entries on the left are
whatever the client chose to send.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_HOPS = 16


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:51234", as some load balancers write it
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class TrustedProxies:
    hops: int = 0
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, value: str | None) -> TrustedProxies:
        """Raises ValueError with a short English reason for a malformed value."""
        text = (value or "").strip()
        if not text:
            return cls()
        if text.isascii() and text.isdigit():
            hops = int(text)
            if not 1 <= hops <= MAX_HOPS:
                raise ValueError(f"a hop count must be between 1 and {MAX_HOPS}")
            return cls(hops=hops)
        networks = []
        for part in text.split(","):
            entry = part.strip()
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(
                    f"{entry[:40]!r} is neither a proxy address nor a network (CIDR)"
                ) from None
        return cls(networks=tuple(networks))

    def _trusts(self, address: str) -> bool:
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: the peer's own unless the peer is a trusted proxy."""
        entries = [e.strip() for e in (forwarded_for or "").split(",") if e.strip()]
        if self.hops:
            # Every request comes through `hops` proxies: the client is the address the
            # outermost one appended. A shorter header did not come through them all.
            if len(entries) < self.hops:
                return peer
            candidate = _address(entries[-self.hops])
            return str(candidate) if candidate is not None else peer
        if not self.networks or not self._trusts(peer):
            return peer
        client = peer
        for entry in reversed(entries):
            address = _address(entry)
            if address is None:
                break  # garbage: keep the last address a trusted hop vouched for
            client = str(address)
            if not self._trusts(client):
                break
        return client
