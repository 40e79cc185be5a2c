// A failure the CLI reports as one line on stderr with a sysexits-style status.

export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOINPUT = 66;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_CANTCREAT = 73;
export const EX_TEMPFAIL = 75;
export const EX_CONFIG = 78;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EX_DATAERR) {
    super(message);
    this.name = 'CliError';
  }
}

export function usage(text: string): CliError {
  return new CliError(`usage: ${text}`, EX_USAGE);
}
