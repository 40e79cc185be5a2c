// Named replies the server sends, so handlers never write codes as magic strings. Use
// `withText(R.x, '...')` for a more specific text. Codes: RFC 5321 4.2.2/4.2.3, enhanced codes
// RFC 3463 (and the registry of RFC 5248). Greetings and EHLO replies carry no enhanced code
// (RFC 2034 3).

import { constantReplies, reply, type Reply } from './reply.js';

export const R = constantReplies({
  // 2xx
  ok: reply(250, '2.0.0', 'ok'),
  senderOk: reply(250, '2.1.0', 'sender ok'),
  recipientOk: reply(250, '2.1.5', 'recipient ok'),
  messageAccepted: reply(250, '2.6.0', 'message accepted'),
  resetOk: reply(250, '2.0.0', 'reset'),
  noopOk: reply(250, '2.0.0', 'ok'),
  /** RFC 5321 3.5.3: 252 when a VRFY cannot be answered but delivery will be tried. */
  cannotVerify: reply(252, '2.5.0', 'cannot verify user, but will accept message and attempt delivery'),
  help: reply(214, '2.0.0', 'see RFC 5321'),
  bye: reply(221, '2.0.0', 'bye'),
  authSucceeded: reply(235, '2.7.0', 'authentication successful'),
  // 3xx
  startData: reply(354, undefined, 'end data with <CR><LF>.<CR><LF>'),
  // 220 for STARTTLS carries an enhanced code, the greeting (built by the server) does not.
  readyToStartTls: reply(220, '2.0.0', 'ready to start TLS'),

  // 4xx
  /** RFC 5321 3.8: shutting down or dropping an abusive client. */
  serviceUnavailable: reply(421, '4.3.2', 'service not available, closing transmission channel'),
  tooManyAuthFailures: reply(421, '4.7.0', 'too many auth failures'),
  timeout: reply(421, '4.4.2', 'timeout, closing connection'),
  localError: reply(451, '4.3.0', 'local error in processing'),
  insufficientStorage: reply(452, '4.3.1', 'insufficient system storage'),
  /** RFC 5321 4.5.3.1.10: too many recipients is 452, the client retries the rest later. */
  tooManyRecipients: reply(452, '4.5.3', 'too many recipients'),
  tlsNotAvailable: reply(454, '4.7.0', 'TLS not available'),
  authTemporaryFailure: reply(454, '4.7.0', 'temporary authentication failure'),
  tempRejectRecipient: reply(450, '4.2.1', 'mailbox temporarily unavailable'),

  // 5xx protocol errors
  lineTooLong: reply(500, '5.5.0', 'line too long'),
  commandUnrecognized: reply(500, '5.5.1', 'command not recognized'),
  syntaxError: reply(500, '5.5.2', 'syntax error'),
  invalidUtf8: reply(500, '5.5.2', 'invalid UTF-8 in command'),
  badArguments: reply(501, '5.5.4', 'invalid command arguments'),
  commandNotImplemented: reply(502, '5.5.1', 'command not implemented'),
  badSequence: reply(503, '5.5.1', 'bad sequence of commands'),
  needMailFirst: reply(503, '5.5.1', 'MAIL first'),
  needRcptFirst: reply(503, '5.5.1', 'RCPT first'),
  needEhloFirst: reply(503, '5.5.1', 'EHLO or HELO first'),
  nestedMail: reply(503, '5.5.1', 'sender already given'),
  alreadyAuthenticated: reply(503, '5.5.1', 'already authenticated'),
  /** RFC 3030 2: DATA after BDAT, or BDAT after a failed BDAT, in one transaction. */
  mixedDataBdat: reply(503, '5.5.1', 'DATA and BDAT cannot be mixed'),
  /** RFC 3207 4: STARTTLS when TLS is already active. */
  tlsAlreadyActive: reply(503, '5.5.1', 'TLS already active'),
  /** RFC 4954 4: unknown or unavailable mechanism. */
  authMechanismUnsupported: reply(504, '5.5.4', 'unrecognized authentication mechanism'),
  /** RFC 4954 4: base64 that does not decode. */
  authBadBase64: reply(501, '5.5.2', 'invalid base64 data'),
  /** RFC 4954 4: the client sent "*". */
  authCancelled: reply(501, '5.0.0', 'authentication cancelled'),
  paramUnknown: reply(555, '5.5.4', 'unrecognized MAIL FROM or RCPT TO parameter'),
  paramBad: reply(501, '5.5.4', 'invalid parameter'),

  // 5xx policy and addresses
  /** RFC 4954 6 / spec 2.4. */
  authRequired: reply(530, '5.7.0', 'authentication required'),
  /** RFC 3207 4: a listener that demands TLS before MAIL or AUTH. */
  tlsRequired: reply(530, '5.7.0', 'must issue a STARTTLS command first'),
  /** RFC 4954 6: credentials invalid. */
  authFailed: reply(535, '5.7.8', 'authentication credentials invalid'),
  /** RFC 4954 6: PLAIN/LOGIN over a channel without TLS. */
  authEncryptionRequired: reply(538, '5.7.11', 'encryption required for requested authentication mechanism'),
  /** Relay denied, or MAIL FROM not an address of the account (spec 2.4). */
  notAuthorized: reply(550, '5.7.1', 'not authorized'),
  relayDenied: reply(554, '5.7.1', 'relay access denied'),
  mailboxUnknown: reply(550, '5.1.1', 'no such user'),
  mailboxDisabled: reply(550, '5.2.1', 'mailbox disabled'),
  badSenderSyntax: reply(553, '5.1.7', 'bad sender address syntax'),
  badRecipientSyntax: reply(553, '5.1.3', 'bad recipient address syntax'),
  /** RFC 6531 3.5: non-ASCII address without SMTPUTF8. */
  utf8AddressNotPermitted: reply(553, '5.6.7', 'non-ASCII address requires SMTPUTF8'),
  /** RFC 6152 / RFC 3030: 8-bit or binary content declared as 7BIT is tolerated by most servers;
   * this is for when policy says otherwise. */
  contentNot7bit: reply(554, '5.6.0', '8-bit data in message declared 7BIT'),
  /** RFC 5321 2.3.8: bare LF in message data (SMTP smuggling defence); text as Postfix. */
  bareLf: reply(550, '5.5.2', 'bare <LF> received'),
  nulInData: reply(554, '5.6.0', 'NUL byte in message data'),
  /** RFC 5321 2.3.8: a CR not followed by LF. Refused rather than passed on: a next hop that
   * takes <CR>.<CR> as the end of data would read a second, forged message (SMTP smuggling). */
  bareCr: reply(554, '5.6.11', 'bare <CR> in message data refused (SMTP smuggling defence)'),
  /** RFC 1870 6.1: declared SIZE over the limit at MAIL. */
  sizeExceedsLimit: reply(552, '5.3.4', 'message size exceeds fixed maximum message size'),
  /** RFC 1870 6.2 / RFC 5321 4.5.3.1.10: message over the limit after DATA/BDAT. */
  messageTooBig: reply(552, '5.3.4', 'message too big'),
  quotaExceeded: reply(552, '5.2.2', 'mailbox full'),
  transactionFailed: reply(554, '5.0.0', 'transaction failed'),
  /** RFC 5321 4.5.3.1.8 / Postfix: cap on recipients reached for good. */
  tooManyRecipientsPermanent: reply(552, '5.5.3', 'too many recipients'),
  /** RFC 3030 3: BINARYMIME requires BDAT. */
  binaryMimeNeedsBdat: reply(503, '5.5.1', 'BINARYMIME requires BDAT'),
} as const satisfies Record<string, Reply>);

export type ReplyName = keyof typeof R;
