"""Webhook URL safety: the service must not be usable to reach loopback or internal hosts.

A URL is checked when it is saved (scheme, and any literal IP address or `localhost`) and again
when a message is sent: the host name is resolved then, every address it resolves to must be
public, and the connection goes to the address that was checked, so a DNS answer that changes
to a private address between the check and the connection (DNS rebinding) is refused too.
`allow_private` (ALLOW_PRIVATE_WEBHOOKS) lifts the address rule, never the scheme rule.

IPv6 addresses that carry an IPv4 address (IPv4-mapped and -compatible, SIIT, NAT64, 6to4) are
judged by the IPv4 address they carry, since a gateway or the host's own stack may deliver them
there; Teredo tunnels, unique-local, link-local, loopback, multicast and reserved ranges are
refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class UnsafeUrl(ValueError):
    """A webhook URL the service refuses to call; the message says why."""


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally, in any form the resolver accepts (`127.1`, `0x7f.1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(part.isalnum() for part in host.split(".")):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
SIIT_PREFIX = 0xFFFF0000  # ::ffff:0:a.b.c.d, the upper 96 bits shifted down by 32
TEREDO = ipaddress.IPv6Network("2001::/32")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it is one of the forms that embed one."""
    value = int(address)
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if value >> 32 == 0 or value >> 32 == SIIT_PREFIX or address in NAT64:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast only: no loopback, private, link-local, CGNAT or reserved range."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
        if address in TEREDO:
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _describe(address: IPAddress) -> str:
    embedded = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    return f"{address}, which stands for {embedded}" if embedded is not None else str(address)


def split_host(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; UnsafeUrl for any other scheme or no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"This is not a valid URL: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrl("Use an http or https URL.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrl("The URL needs a host name.")
    return scheme, host, port or (443 if scheme == "https" else 80)


def check_url(url: str, *, allow_private: bool) -> None:
    """What can be checked without the network, when a URL is saved."""
    _, host, _ = split_host(url)
    if allow_private:
        return
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise UnsafeUrl("Webhook URLs may not point at this machine.")
    address = literal_ip(host)
    if address is not None and not is_public(address):
        raise UnsafeUrl(
            f"Webhook URLs may not point at a private or reserved address ({_describe(address)})."
        )


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def resolve_for_sending(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to), after checking every address of the host."""
    scheme, host, port = split_host(url)
    check_url(url, allow_private=allow_private)
    address = literal_ip(host)
    if address is not None:
        return scheme, host, port, str(address)
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        raise UnsafeUrl(f"The host {host} could not be resolved: {exc}.") from exc
    if not addresses:
        raise UnsafeUrl(f"The host {host} has no address.")
    if not allow_private:
        resolved = [ipaddress.ip_address(a.split("%")[0]) for a in addresses]
        private = [a for a in resolved if not is_public(a)]
        if private:
            raise UnsafeUrl(
                f"The host {host} resolves to a private address ({_describe(private[0])})."
            )
    return scheme, host, port, addresses[0]
