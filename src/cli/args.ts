// Argument handling shared by the commands: the global --dir option (accepted anywhere on the command
// line) and strict per-command option parsing with node:util parseArgs.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, EX_USAGE } from './cli-error.js';

export interface Invocation {
  dir: string;
  /** Command words and their options, --dir removed. */
  args: string[];
}

export function extractDir(argv: string[], env: NodeJS.ProcessEnv): Invocation {
  const args: string[] = [];
  let dir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (a === '--dir') {
      if (i + 1 >= argv.length) throw new CliError('--dir needs a directory', EX_USAGE);
      dir = argv[++i];
    } else if (a.startsWith('--dir=')) {
      dir = a.slice(6);
    } else {
      args.push(a);
    }
  }
  if (dir === '') throw new CliError('--dir needs a directory', EX_USAGE);
  return { dir: dir ?? env.POSTERN_DIR ?? './data', args };
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses options strictly; unknown options are usage errors naming the command. */
export interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parse(args: string[], options: Options, usageText: string): Parsed {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    throw new CliError(`${(err as Error).message.split('\n')[0]} (usage: ${usageText})`, EX_USAGE);
  }
}

export function positionals(p: string[], min: number, max: number, usageText: string): string[] {
  if (p.length < min || p.length > max) throw new CliError(`usage: ${usageText}`, EX_USAGE);
  return p;
}
