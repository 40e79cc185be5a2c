// SIGTERM/SIGINT end a serving process (one-process server or cluster primary) once: the first
// signal starts a clean stop, the exit code says whether it finished.

import type { Logger } from '../log/logger.js';

export function exitOnShutdownSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal: sig });
    stop().then(
      () => process.exit(0),
      (err) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}
