/**
 * The verified claims of a request, as the authentication middleware leaves them for later
 * stages (claim predicates in the route table, claims-to-headers). One accessor, low in the tree,
 * so routing never imports the authentication code and neither can read an unverified token.
 * Only code that has verified a token calls {@link setRequestClaims}.
 */

/** Claims of a verified token (a JWT payload). */
export type RequestClaims = Readonly<Record<string, unknown>>;

const claimsOf = new WeakMap<object, RequestClaims>();

/**
 * Records the verified claims of `req`.
 * @example setRequestClaims(req, payload); // after jose's jwtVerify succeeded
 */
export function setRequestClaims(req: object, claims: RequestClaims): void {
  claimsOf.set(req, claims);
}

/**
 * The verified claims of `req`, or `undefined` when no token was verified for it.
 * @example requestClaims(req)?.sub
 */
export function requestClaims(req: object): RequestClaims | undefined {
  return claimsOf.get(req);
}
