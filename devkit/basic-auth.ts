/** The Authorization header value of HTTP basic auth (RFC 7617) for `user` and `password`. */
export const basicAuthorization = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
