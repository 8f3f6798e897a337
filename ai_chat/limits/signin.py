"""Failed sign-ins, counted per account and per address in a moving window (15 min).

An account is blocked after `per_account` failures (guessing one user's password from many
addresses), an address after `per_address` (trying many accounts from one place). A success
clears the account's count, not the address's: one valid account doesn't buy an address
more guesses at others.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import time

from ai_chat.limits.backend import Backend, Limiters, Window, window


def account_key(username: str) -> str:
    name = username.strip().lower()
    # Keys stay short whatever is typed into the box.
    return name if len(name) <= 64 else hashlib.sha256(name.encode()).hexdigest()


def address_key(address: str) -> str:
    """An IPv6 client usually has a whole /64: count the network, not each address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return account_key(address or "unknown")
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SigninThrottle:
    def __init__(self, backend: Backend, per_account: int, per_address: int, window_s: int):
        self.backend = backend
        self.window_s = window_s
        self.account = window(max(1, per_account), window_s, "signin-account")
        self.address = window(max(1, per_address), window_s, "signin-address")

    def _checks(self, username: str, address: str) -> list[tuple[Window, str]]:
        checks = [(self.account, account_key(username))]
        if address:
            checks.append((self.address, address_key(address)))
        return checks

    async def blocked(self, username: str, address: str) -> float | None:
        """Seconds to wait before trying again, or None: the attempt may go ahead."""
        checks = self._checks(username, address)

        async def op(lim: Limiters) -> float | None:
            allowed = await asyncio.gather(*(lim.moving.test(item, key) for item, key in checks))
            waits = []
            for (item, key), ok in zip(checks, allowed, strict=True):
                if not ok:
                    stats = await lim.moving.get_window_stats(item, key)
                    waits.append(max(1.0, stats.reset_time - time.time()))
            return max(waits) if waits else None

        return await self.backend.run("sign-in check", op)

    async def failed(self, username: str, address: str) -> None:
        checks = self._checks(username, address)

        async def op(lim: Limiters) -> None:
            await asyncio.gather(*(lim.moving.hit(item, key) for item, key in checks))

        await self.backend.run("sign-in failure", op)

    async def succeeded(self, username: str, address: str) -> None:
        async def op(lim: Limiters) -> None:
            await lim.moving.clear(self.account, account_key(username))

        await self.backend.run("sign-in success", op)
