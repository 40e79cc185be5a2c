// Starts bench/postern-bench-server.js as a child process and reads its ports.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PosternBenchInfo, PosternBenchSetup } from './postern-bench-server.js';

export interface PosternProcess extends PosternBenchInfo {
  stop(): Promise<void>;
}

export async function startPostern(setup: Partial<PosternBenchSetup> = {}, nodeArgs: string[] = []): Promise<PosternProcess> {
  const entry = fileURLToPath(new URL('./postern-bench-server.js', import.meta.url));
  // POSTERN_BENCH_PROF=<dir> writes a CPU profile of the server there (node --cpu-prof).
  const prof = process.env.POSTERN_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.POSTERN_BENCH_PROF}`] : [];
  const child = spawn(process.execPath, ['--expose-gc', ...prof, ...nodeArgs, entry], {
    // The thread pool size of `postern` (bin/postern.cjs sets it before any module loads).
    env: { UV_THREADPOOL_SIZE: '16', ...process.env, POSTERN_BENCH: JSON.stringify({ users: 1, seed: 0, big: 0, ...setup }) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const rl = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`postern bench server exited with ${code}`)));
  });
  const info = JSON.parse(first) as PosternBenchInfo;
  return {
    ...info,
    async stop() {
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}
