// Public API of outbound delivery: the one door for mail that leaves (deliver.ts says what holds
// for every message that goes through it).

export { deliverToDomain, statusOf, type DeliveryContext, type DeliveryRequest, type RecipientOutcome } from './deliver.js';
export { systemResolver, resolveDestination, hostAddresses, DestinationError, type Destination, type DestinationHost, type DnsResolver, type ResolveOptions } from './destination.js';
export { restrictedAddressClass, type AddressClass } from './address-policy.js';
export { outboundContent, type OutboundContent } from './content.js';
export { defaultTlsPolicy, type TlsPolicy, type DestinationTlsPolicy, type HostTls, type HostTlsDecision } from './tls-policy.js';
export { type TlsOutcome } from './tls-policy.js';
export { MtaSts, fetchMtaStsPolicy, MtaStsFetchError, type MtaStsLookup, type MtaStsOptions, type MtaStsFetchOptions } from './mta-sts.js';
export { parseMtaStsPolicy, parseMtaStsRecord, mxAllowed, type MtaStsPolicy } from './mta-sts-policy.js';
export { OutboundTlsPolicy, utcDay, type OutboundTlsPolicyOptions } from './policy-tls.js';
export { webpkiCheck, type TlsResultType, type TlsCheckFailure } from './tls-check.js';
export { sendTlsReports, buildTlsReport, parseTlsRptRecord, tlsReportMessage, type TlsReportJson, type SentReport } from './tls-rpt.js';
