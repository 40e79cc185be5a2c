// Channel-binding data of a TLS connection for SCRAM -PLUS (spec 3.2).
// - TLS 1.3: tls-exporter (RFC 9266 2): 32 bytes from the exporter with label
//   "EXPORTER-Channel-Binding" and an empty context. Node passes a context to OpenSSL only
//   when one is given, and in TLS 1.3 "no context" and "empty context" give the same value
//   (RFC 8446 7.5 always hashes the context); we pass an empty one explicitly, as RFC 9266
//   says, and as gsasl and OpenSSL-based clients do.
// - TLS 1.2: tls-unique (RFC 5929 3.1): the first Finished message of the latest handshake.
//   Full handshake: the client's Finished comes first; abbreviated (resumed) handshake:
//   the server's. RFC 9266 forbids tls-unique with TLS 1.3. Note tls-unique is only sound
//   with extended master secret (RFC 7627), which OpenSSL negotiates by default.

import type { TLSSocket } from 'node:tls';
import type { ChannelBinding } from '../sasl/types.js';

export const TLS_EXPORTER_LABEL = 'EXPORTER-Channel-Binding';
export const TLS_EXPORTER_LENGTH = 32;

/**
 * Channel binding for a connected TLS socket, on the server or the client side (set `isServer`
 * to match the socket's role; node's TLSSocket knows it too but does not expose it in types).
 * Returns undefined when the handshake is not complete or the protocol is not TLS 1.2/1.3.
 */
export function channelBindingOf(socket: TLSSocket, isServer: boolean): ChannelBinding | undefined {
  const protocol = socket.getProtocol();
  if (protocol === 'TLSv1.3') {
    return { type: 'tls-exporter', data: socket.exportKeyingMaterial(TLS_EXPORTER_LENGTH, TLS_EXPORTER_LABEL, Buffer.alloc(0)) };
  }
  if (protocol === 'TLSv1.2') {
    // Which Finished was first: the client's on a full handshake, the server's on resumption.
    const clientFirst = !socket.isSessionReused();
    const ours = socket.getFinished();
    const peers = socket.getPeerFinished();
    const first = clientFirst === !isServer ? ours : peers;
    if (first === undefined || first.length === 0) return undefined;
    return { type: 'tls-unique', data: first };
  }
  return undefined;
}
