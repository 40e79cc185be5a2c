// The typed protocol error: parsers throw it with the reply the server must send, and the
// session turns it into that reply in one place.

import { formatReply, type Reply } from './reply.js';

export class SmtpError extends Error {
  /**
   * @param reply what to answer
   * @param fatal the connection cannot continue after this reply (the server cannot know where
   *   the next command starts, e.g. an unparseable BDAT size, or the peer speaks HTTP)
   */
  constructor(readonly reply: Reply, readonly fatal = false) {
    super(formatReply(reply).trimEnd());
    this.name = 'SmtpError';
  }
}
