/**
 * IP addresses as 16 bytes (IPv4 as IPv4-mapped IPv6), the form Elasticsearch's `ip` type indexes: equal
 * addresses compare equal whatever their spelling, and a CIDR block is one byte range.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export function ipToBytes(text: string): Buffer | null {
  if (isIP(text) === 0) return null;
  const address = ipaddr.parse(text);
  const ipv6 =
    address.kind() === 'ipv4' ? (address as ipaddr.IPv4).toIPv4MappedAddress() : (address as ipaddr.IPv6);
  return Buffer.from(ipv6.toByteArray());
}
