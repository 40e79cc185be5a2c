// A small router: exact path segments and `:name` parameters, one handler per method and path.
// A path that exists with another method answers 405 with Allow.

import type { WebRequest } from './web-request.js';
import type { WebResponse } from './web-response.js';

export type Handler = (r: WebRequest) => Promise<WebResponse> | WebResponse;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

export type RouteMatch =
  | { kind: 'found'; handler: Handler; params: Record<string, string> }
  | { kind: 'method'; allowed: string[] }
  | { kind: 'none' };

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/'), handler });
    return this;
  }

  match(method: string, pathname: string): RouteMatch {
    const parts = pathname.split('/');
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchParts(r.parts, parts);
      if (!params) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { kind: 'found', handler: r.handler, params };
      allowed.push(r.method);
    }
    return allowed.length ? { kind: 'method', allowed } : { kind: 'none' };
  }
}

function matchParts(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) {
      let v: string;
      try {
        v = decodeURIComponent(parts[i]!);
      } catch {
        return null;
      }
      if (v === '') return null;
      params[p.slice(1)] = v;
    } else if (p !== parts[i]) {
      return null;
    }
  }
  return params;
}
