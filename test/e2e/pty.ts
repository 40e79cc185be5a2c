// Runs a terminal program (neomutt insists on one) under a pseudo terminal made by python3's pty
// module, typing keys when the screen shows what a step waits for, with a hard time limit.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

// argv[1]: time limit in seconds, argv[2]: JSON list of [expect, send] steps (wait until the screen
// output since the last step contains `expect`, then type `send`), argv[3:]: the program.
// Copies the terminal output to stdout; kills the program at the time limit and exits 124.
const PTY_RUNNER = `
import json, os, pty, select, signal, sys, time, struct, fcntl, termios
steps = json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
deadline = time.time() + float(sys.argv[1])
out = b''
seen = b''
status = 124
while time.time() < deadline:
    if steps and steps[0][0].encode() in seen:
        time.sleep(0.3)
        os.write(fd, steps.pop(0)[1].encode())
        seen = b''
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            status = 0
            break
        out += data
        seen += data
    elif os.waitpid(pid, os.WNOHANG)[0] == pid:
        pid = 0
        status = 0
        break
if status:
    os.kill(pid, signal.SIGKILL)
if pid:
    os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(status)
`;

export interface PtyRun {
  /** What the program wrote to the terminal. */
  output: string;
}

/**
 * Runs argv on a pty, typing each step's keys once its text has appeared. Rejects with the
 * terminal output when the program is still running after `seconds`.
 */
export async function runOnPty(argv: string[], steps: [expect: string, send: string][], opts: { seconds: number; env: NodeJS.ProcessEnv }): Promise<PtyRun> {
  try {
    const r = await run('python3', ['-c', PTY_RUNNER, String(opts.seconds), JSON.stringify(steps), ...argv], {
      timeout: (opts.seconds + 30) * 1000,
      env: opts.env,
      maxBuffer: 16 << 20,
    });
    return { output: r.stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; message: string };
    throw new Error(`${argv[0]} did not finish (${e.code === 124 ? `killed after ${opts.seconds} s` : e.message}):\n${(e.stdout ?? '').slice(-2000)}`);
  }
}
