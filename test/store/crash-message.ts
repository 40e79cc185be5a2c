// Deterministic message content for crash tests: the message number decides size and bytes, so a
// checker can tell a complete message from a partial one.

export function crashMessage(n: number): Buffer {
  const size = 200 + ((n * 7919) % 60000);
  const head = `Message-ID: <crash-${n}@test>\r\nSubject: crash ${n}\r\n\r\n`;
  const body = Buffer.alloc(size, `${n % 10}`.charCodeAt(0));
  return Buffer.concat([Buffer.from(head), body, Buffer.from('\r\n')]);
}
