// Subscribers per topic, shared by every bus transport: one subscribe, and one delivery that parses
// the payload once per message and keeps a throwing subscriber from the others.

import type { Logger } from '../log/logger.js';
import type { BusListener } from './bus.js';

export class TopicListeners {
  private readonly byTopic = new Map<string, Set<BusListener>>();

  /** `log`: where a throwing subscriber is reported; without it the error is rethrown on its own. */
  constructor(private readonly log?: Logger) {}

  subscribe(topic: string, fn: BusListener): () => void {
    let set = this.byTopic.get(topic);
    if (!set) this.byTopic.set(topic, (set = new Set()));
    set.add(fn);
    return () => void set.delete(fn);
  }

  /** Hands a published message (its JSON text) to the topic's subscribers. */
  deliver(topic: string, json: string, from: number): void {
    const set = this.byTopic.get(topic);
    if (!set || set.size === 0) return;
    const payload: unknown = JSON.parse(json);
    for (const fn of set) {
      try {
        fn(payload, from);
      } catch (err) {
        if (this.log) this.log.error('cluster subscriber failed', { topic, err });
        else queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
