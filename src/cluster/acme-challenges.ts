// ACME http-01 answers in every worker: the scheduler runs in one worker, but the CA's request may
// reach any of them. The scheduling worker publishes each token it serves (and its removal); the
// others serve it too. A worker that starts while a challenge is pending misses that one token;
// the CA's retry or the next renewal attempt covers it.

import type { ChallengeResponder } from '../acme/challenge-responder.js';
import type { ClusterBus } from './bus.js';
import { TOPIC } from './topics.js';

export function shareHttpChallenges(bus: ClusterBus, challenges: ChallengeResponder, scheduler: boolean): () => void {
  if (scheduler) {
    const add = challenges.addHttp.bind(challenges);
    challenges.addHttp = (token: string, keyAuthorization: string) => {
      const remove = add(token, keyAuthorization);
      bus.publish(TOPIC.acmeHttp, { token, keyAuthorization });
      return () => {
        remove();
        bus.publish(TOPIC.acmeHttp, { token, remove: true });
      };
    };
    return () => {
      challenges.addHttp = add;
    };
  }
  const removers = new Map<string, () => void>();
  const unsubscribe = bus.subscribe(TOPIC.acmeHttp, (p) => {
    const m = p as { token?: unknown; keyAuthorization?: unknown; remove?: unknown };
    if (typeof m?.token !== 'string') return;
    removers.get(m.token)?.();
    removers.delete(m.token);
    if (m.remove !== true && typeof m.keyAuthorization === 'string') removers.set(m.token, challenges.addHttp(m.token, m.keyAuthorization));
  });
  return () => {
    unsubscribe();
    for (const r of removers.values()) r();
    removers.clear();
  };
}
