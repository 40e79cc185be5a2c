// Public API of outbound delivery: the one door for mail that leaves (deliver.ts says what holds
// for every message that goes through it).

export { deliverToDomain, statusOf, type DeliveryContext, type DeliveryRequest, type RecipientOutcome } from './deliver.js';
export { systemResolver, resolveDestination, hostAddresses, DestinationError, type Destination, type DestinationHost, type DnsResolver, type ResolveOptions } from './destination.js';
export { restrictedAddressClass, type AddressClass } from './address-policy.js';
export { outboundContent, type OutboundContent } from './content.js';
export { defaultTlsPolicy, type TlsPolicy, type DestinationTlsPolicy, type HostTls, type HostTlsDecision } from './tls-policy.js';
