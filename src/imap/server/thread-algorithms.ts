// THREAD algorithms (RFC 5256 4): ORDEREDSUBJECT and REFERENCES. Pure: messages in (in mailbox order,
// with their sort keys), a forest out. A node without a message is a dummy (shown as a parenthesised
// group of its children). No recursion: a reply chain may be as deep as the mailbox is big.

export interface ThreadInput {
  /** What the answer names: message sequence number or UID (ascending in mailbox order). */
  n: number;
  /** Sent date, ms (RFC 5256 2.2: the INTERNALDATE when the Date field is missing or invalid). */
  date: number;
  /** Base subject, case-mapped (RFC 5256 2.1). */
  subject: string;
  replyOrForward: boolean;
  messageId: string | null;
  /** References (or In-Reply-To) Message-IDs, oldest first. */
  parents: readonly string[];
}

export interface ThreadNode {
  /** Index into the input, or -1 for a dummy. */
  msg: number;
  children: ThreadNode[];
}

/** Loop checks walk at most this far up a chain; a deeper chain is not linked further (hostile input). */
const MAX_ANCESTOR_WALK = 10_000;

interface Container {
  msg: number;
  parent: Container | null;
  children: Container[];
}

/** Sent date order, then mailbox order (RFC 5256 4: ties go by sequence number). */
function byDate(msgs: readonly ThreadInput[]): (a: number, b: number) => number {
  return (a, b) => msgs[a]!.date - msgs[b]!.date || a - b;
}

/** ORDEREDSUBJECT (RFC 5256 4): one thread per base subject; every other message a child of its
 * first (by sent date), the threads in the order of their first message. */
export function threadOrderedSubject(msgs: readonly ThreadInput[]): ThreadNode[] {
  const order = msgs.map((_, i) => i);
  const date = byDate(msgs);
  order.sort((a, b) => (msgs[a]!.subject < msgs[b]!.subject ? -1 : msgs[a]!.subject > msgs[b]!.subject ? 1 : date(a, b)));
  const threads: ThreadNode[] = [];
  let root: ThreadNode | null = null;
  for (const i of order) {
    if (root && msgs[root.msg]!.subject === msgs[i]!.subject) root.children.push({ msg: i, children: [] });
    else threads.push((root = { msg: i, children: [] }));
  }
  threads.sort((a, b) => date(a.msg, b.msg));
  return threads;
}

/** Whether `a` is `b` or one of its ancestors. */
function isAncestorOrSelf(a: Container, b: Container): boolean {
  if (a === b) return true;
  if (a.children.length === 0) return false;
  let steps = 0;
  for (let p = b.parent; p; p = p.parent) {
    if (p === a || ++steps > MAX_ANCESTOR_WALK) return true;
  }
  return false;
}

function unlink(c: Container): void {
  const p = c.parent;
  if (!p) return;
  const i = p.children.indexOf(c);
  if (i >= 0) p.children.splice(i, 1);
  c.parent = null;
}

/** Makes `child` a child of `parent` unless that makes a loop; false when refused. */
function link(parent: Container, child: Container): boolean {
  if (isAncestorOrSelf(child, parent)) return false;
  unlink(child);
  child.parent = parent;
  parent.children.push(child);
  return true;
}

/** REFERENCES (RFC 5256 4), steps numbered as there. */
export function threadReferences(msgs: readonly ThreadInput[]): ThreadNode[] {
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const container = (id: string): Container => {
    let c = byId.get(id);
    if (!c) {
      byId.set(id, (c = { msg: -1, parent: null, children: [] }));
      all.push(c);
    }
    return c;
  };
  // (1) Link each message's references, then the message under its last reference.
  msgs.forEach((m, i) => {
    let own: Container;
    const known = m.messageId === null ? undefined : byId.get(m.messageId);
    if (m.messageId !== null && (!known || known.msg < 0)) {
      own = known ?? container(m.messageId);
    } else {
      // No Message-ID, or a duplicate of an earlier message's: a unique one of its own.
      own = { msg: -1, parent: null, children: [] };
      all.push(own);
    }
    own.msg = i;
    // (1A) Each reference the parent of the next, unless one already has a parent or a loop results.
    let prev: Container | null = null;
    for (const id of m.parents) {
      const c = container(id);
      if (prev && !c.parent && c !== prev) link(prev, c);
      prev = c;
    }
    // (1B) The last reference is the message's parent (a parent assumed earlier from a truncated
    // References is replaced); no reference, or a loop, leaves it a root.
    unlink(own);
    if (prev) link(prev, own);
  });
  // (2) The root set: containers without a parent, in the order they were made.
  const date = byDate(msgs);
  // (4) Prune dummies: delete childless ones; replace the others by their children, except at the
  // top where a dummy with several children stays. Bottom-up (children before their parents).
  const post = postOrder(all.filter((c) => !c.parent));
  for (const c of post) {
    if (c.msg >= 0) continue;
    if (c.children.length === 0) {
      unlink(c);
      continue;
    }
    if (c.parent) {
      const p = c.parent;
      const at = p.children.indexOf(c);
      for (const k of c.children) k.parent = p;
      p.children.splice(at, 1, ...c.children);
      c.parent = null;
      c.children = [];
    }
  }
  let roots = all.filter((c) => !c.parent && (c.msg >= 0 || c.children.length > 0));
  roots = roots.flatMap((c) => {
    if (c.msg >= 0 || c.children.length > 1) return [c];
    const only = c.children[0]!;
    only.parent = null;
    return [only];
  });
  // Siblings by date before step 5, so that "the first child" of a dummy is its oldest.
  const firstDate = (c: Container): number => (c.msg >= 0 ? c.msg : c.children[0]!.msg);
  const sortChildren = (c: Container): void => {
    if (c.children.length > 1) c.children.sort((a, b) => date(firstDate(a), firstDate(b)));
  };
  for (const c of postOrder(roots)) sortChildren(c);
  // The roots too: which message a subject's thread is built around in step 5 depends on the order
  // the roots are visited in, which RFC 5256 leaves open; oldest first, as Dovecot does.
  roots.sort((a, b) => date(firstDate(a), firstDate(b)));
  // (5) Threads with the same base subject gathered.
  const subjectOf = (c: Container): string => msgs[c.msg >= 0 ? c.msg : c.children[0]!.msg]!.subject;
  const isReply = (c: Container): boolean => c.msg >= 0 && msgs[c.msg]!.replyOrForward;
  const table = new Map<string, Container>();
  for (const c of roots) {
    const s = subjectOf(c);
    if (!s) continue;
    const t = table.get(s);
    if (!t) table.set(s, c);
    else if (t.msg >= 0 && (c.msg < 0 || (isReply(t) && !isReply(c)))) table.set(s, c);
  }
  const merged: Container[] = [];
  for (const c of roots) {
    const s = subjectOf(c);
    const t = s ? table.get(s) : undefined;
    if (!t || t === c) {
      if (!c.parent) merged.push(c);
      continue;
    }
    if (t.msg < 0 && c.msg < 0) {
      for (const k of c.children) k.parent = t;
      t.children.push(...c.children);
      c.children = [];
    } else if (t.msg < 0 || (isReply(c) && !isReply(t))) {
      c.parent = t;
      t.children.push(c);
    } else {
      const d: Container = { msg: -1, parent: null, children: [t, c] };
      t.parent = d;
      c.parent = d;
      table.set(s, d);
      const at = merged.indexOf(t);
      if (at >= 0) merged[at] = d;
      else merged.push(d);
    }
  }
  const top = merged.filter((c) => !c.parent);
  // (6) Siblings by sent date, deepest first; a dummy counts as its first child.
  for (const c of postOrder(top)) sortChildren(c);
  top.sort((a, b) => date(firstDate(a), firstDate(b)));
  // Containers are ThreadNodes already (with a parent link besides): no copy of a big forest.
  return top;
}

/** Every container under `roots` (roots included), each after all of its descendants. */
function postOrder(roots: Container[]): Container[] {
  const out: Container[] = [];
  const stack: [Container, number][] = roots.map((r) => [r, 0]);
  stack.reverse();
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [c, i] = top;
    if (i < c.children.length) {
      top[1]++;
      stack.push([c.children[i]!, 0]);
    } else {
      stack.pop();
      out.push(c);
    }
  }
  return out;
}

/**
 * The THREAD response data (RFC 5256 5): "(" a chain of single children ")" with a group of
 * parenthesised threads where a node has several children; a dummy shows only its children.
 */
export function formatThreads(threads: readonly ThreadNode[], name: (msg: number) => number): string {
  const out: string[] = [];
  // Work items: a node to open (its "(" and its chain), or a ")" to close.
  const stack: (ThreadNode | ')')[] = [];
  for (let i = threads.length - 1; i >= 0; i--) stack.push(threads[i]!);
  while (stack.length) {
    const item = stack.pop()!;
    if (item === ')') {
      out.push(')');
      continue;
    }
    out.push('(');
    let n: ThreadNode = item;
    let first = true;
    // Follow the chain of only children.
    for (;;) {
      if (n.msg >= 0) {
        out.push(first ? String(name(n.msg)) : ' ' + name(n.msg));
        first = false;
      }
      if (n.children.length === 1 && n.msg >= 0) {
        n = n.children[0]!;
        continue;
      }
      break;
    }
    stack.push(')');
    if (n.children.length) {
      if (!first) out.push(' ');
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    }
  }
  return out.join('');
}
