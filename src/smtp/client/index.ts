// Public API of the SMTP client library, exported as `postern/smtpclient`.
//
// @example
//   import { sendMail } from 'postern/smtpclient';
//   const result = await sendMail(
//     { host: 'mail.example.org', port: 465, tls: 'implicit', auth: { username: 'alice@example.org', password } },
//     { from: 'alice@example.org', to: ['bob@example.com'] },
//     'From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nHello\r\n',
//   );

import type { Envelope, MessageSource, SmtpClientOptions } from './options.js';
import { SmtpClient, type SendResult } from './smtp-client.js';

export { SmtpClient, type SendResult } from './smtp-client.js';
export { SmtpClientError, replyText, type RecipientResult, type SmtpErrorKind } from './errors.js';
export type { ClientCertificate, Envelope, MessageSource, SmtpAuthOptions, SmtpClientOptions, SmtpTimeouts, TlsMode } from './options.js';
export type { Reply } from '../proto/reply.js';
export type { EhloCapabilities } from '../proto/capabilities.js';

/** Connects, sends one message, and says QUIT (also when sending failed). */
export async function sendMail(options: SmtpClientOptions, envelope: Envelope, message: MessageSource): Promise<SendResult> {
  const client = await SmtpClient.connect(options);
  try {
    return await client.send(envelope, message);
  } finally {
    await client.quit();
  }
}
