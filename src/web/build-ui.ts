// Bundling the browser code (src/web/ui/, plain TypeScript and one CSS file) with esbuild.
//
// The server calls loadUi() at start: in a checkout it bundles from the sources in memory; in an
// installed package (no sources, maybe no esbuild) it uses the bundle prebuilt next to this module
// in ui-dist/, written by running this file (`node dist/src/web/build-ui.js`) at build time.
// Either way nothing is fetched from elsewhere: no CDN.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UiAssets } from './ui-assets.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PREBUILT = join(HERE, 'ui-dist');

/**
 * The ui/ source directory: beside this file when run from source, else src/web/ui/ above the
 * build output (dist/src/web/ -> three levels up); null in an installed package.
 */
export function uiSourceDir(): string | null {
  let dir = HERE;
  for (let up = 0; up <= 3; up++, dir = dirname(dir)) {
    for (const candidate of [join(dir, 'ui'), join(dir, 'src', 'web', 'ui')]) {
      if (existsSync(join(candidate, 'main.ts'))) return candidate;
    }
  }
  return null;
}

/** Bundles the UI in memory. */
export async function buildUi(opts: { minify?: boolean } = {}): Promise<UiAssets> {
  const src = uiSourceDir();
  if (src === null) throw new Error(`web UI sources (src/web/ui/main.ts) not found near ${HERE}`);
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('the web UI is not prebuilt (ui-dist/) and esbuild is not installed to build it');
  }
  const common = { bundle: true, write: false, minify: opts.minify ?? true, legalComments: 'none', logLevel: 'silent' } as const;
  const [js, css] = await Promise.all([
    esbuild.build({ ...common, entryPoints: [join(src, 'main.ts')], format: 'iife', target: ['es2022'], platform: 'browser', sourcemap: false }),
    esbuild.build({ ...common, entryPoints: [join(src, 'app.css')], loader: { '.css': 'css' } }),
  ]);
  return { js: js.outputFiles[0]!.text, css: css.outputFiles[0]!.text };
}

/**
 * The bundle: built fresh from the sources when they are there (a checkout: never stale), else the
 * prebuilt ui-dist/ (an installed package, where esbuild, a dev dependency, may be missing).
 */
export async function loadUi(): Promise<UiAssets> {
  const js = join(PREBUILT, 'app.js');
  const css = join(PREBUILT, 'app.css');
  const prebuilt = existsSync(js) && existsSync(css);
  if (uiSourceDir() !== null) {
    try {
      return await buildUi();
    } catch (err) {
      if (!prebuilt) throw err;
    }
  }
  if (!prebuilt) throw new Error(`the web UI is neither prebuilt (${PREBUILT}) nor buildable from sources`);
  return { js: readFileSync(js, 'utf8'), css: readFileSync(css, 'utf8') };
}

/** Writes the bundle to `outDir` (default: ui-dist/ beside this module) for a build step. */
export async function writeUi(outDir = PREBUILT): Promise<void> {
  const ui = await buildUi();
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'app.js'), ui.js);
  writeFileSync(join(outDir, 'app.css'), ui.css);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeUi(process.argv[2]).catch((err) => {
    console.error(`build-ui: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
