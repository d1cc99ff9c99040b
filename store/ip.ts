/**
 * IP addresses as 16 bytes (IPv4 as IPv4-mapped IPv6), the form Elasticsearch's `ip` type indexes: equal
 * addresses compare equal whatever their spelling, and a CIDR block is one byte range.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export function ipToBytes(text: string): Buffer | null {
  const family = isIP(text);
  if (family === 0) return null;
  if (family === 4) return ipv4ToBytes(text);
  const address = ipaddr.parse(text);
  const ipv6 =
    address.kind() === 'ipv4' ? (address as ipaddr.IPv4).toIPv4MappedAddress() : (address as ipaddr.IPv6);
  return Buffer.from(ipv6.toByteArray());
}

/** Text of a 16-byte address as Elasticsearch prints it: dotted IPv4 for IPv4-mapped, else RFC 5952. */
export function bytesToIp(bytes: Uint8Array): string {
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (bytes[i] !== 0) mapped = false;
  if (mapped) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  return ipaddr.fromByteArray([...bytes]).toString();
}

/** `::ffff:a.b.c.d` from dotted IPv4 that isIP accepted (four decimal octets, no leading zeros): the hot path. */
function ipv4ToBytes(text: string): Buffer {
  const bytes = Buffer.alloc(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  let at = 12;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 /* . */) {
      bytes[at++] = octet;
      octet = 0;
    } else {
      octet = octet * 10 + (code - 48);
    }
  }
  bytes[at] = octet;
  return bytes;
}
