// An error answered to the client as JSON: HTTP status, a stable code and a message meant for the
// user, and the request field it is about (so the page can show it next to that field).

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
