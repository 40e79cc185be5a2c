// The page shell and the bundled browser code (built by build-ui.ts). The shell has no inline
// script or style, so the Content-Security-Policy can forbid both.

import { createHash } from 'node:crypto';
import type { Router } from './router.js';
import type { WebResponse } from './web-response.js';

export interface UiAssets {
  js: string;
  css: string;
}

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postern account</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/account/app.css">
<script src="/account/app.js" defer></script>
</head>
<body>
<noscript><p>The account pages need JavaScript. The JSON API under /account/api/ works with curl (see docs/web-api.md).</p></noscript>
<div id="app"></div>
</body>
</html>
`;

function asset(body: string, type: string): (r: { req: { headers: Record<string, string | string[] | undefined> } }) => WebResponse {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return (r) => {
    // Revalidated on every load (no-cache) so a new server version is picked up at once.
    const headers = { 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etag };
    if (r.req.headers['if-none-match'] === etag) return { status: 304, headers };
    return { status: 200, body, headers };
  };
}

export function uiRoutes(router: Router, ui: UiAssets): void {
  router.add('GET', '/', () => ({ status: 302, headers: { Location: '/account/' } }));
  router.add('GET', '/account', () => ({ status: 308, headers: { Location: '/account/' } }));
  router.add('GET', '/account/', () => ({ status: 200, body: SHELL, headers: { 'Content-Type': 'text/html; charset=utf-8' } }));
  router.add('GET', '/account/app.js', asset(ui.js, 'text/javascript; charset=utf-8'));
  router.add('GET', '/account/app.css', asset(ui.css, 'text/css; charset=utf-8'));
}
