// Public API of the outbound queue.

export { Queue, startQueue, domainOf, type QueueHandle, type QueueOptions } from './queue.js';
export { systemResolver, resolveDestination, DestinationError, type Destination, type DnsResolver } from '../outbound/index.js';
export { composeDsn, type DsnInput, type DsnRecipient } from './dsn.js';
export { retryDelay, nextAttempt, type RetryPolicy } from './backoff.js';
export { QueueCommandError, formatQueueList, queueDrop, queueList, queueRetry } from './queue-commands.js';
