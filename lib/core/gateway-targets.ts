/**
 * Gateway targeting (Eurus `GatewayNames`): a route may list the gateways that serve it; a gateway
 * named by `GATEWAY_NAME` serves the routes that list it and the routes that list none, and ignores
 * the rest. A gateway without a name serves only routes that list none.
 */

/** A gateway name: an HTTP token of 1 to 64 characters (the same rule as `GATEWAY_NAME`). */
export const GATEWAY_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/** Most gateways one route may list. */
export const MAX_ROUTE_GATEWAYS = 16;

/**
 * Whether the gateway named `name` (or unnamed) serves a route listing `gateways`.
 * @example servesGateway(['public'], 'internal') // false
 * @example servesGateway(undefined, 'internal') // true
 */
export function servesGateway(gateways: readonly string[] | undefined, name: string | undefined): boolean {
  if (gateways === undefined || gateways.length === 0) return true;
  return name !== undefined && gateways.includes(name);
}

/**
 * Whether no gateway serves both routes: both list gateways and no name is in both lists.
 * @example gatewaysDisjoint(['public'], ['internal']) // true
 */
export function gatewaysDisjoint(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined || a.length === 0 || b.length === 0) return false;
  return !a.some((g) => b.includes(g));
}

/**
 * Why `gateways` is not a valid list of gateway names, or `undefined`.
 * @example gatewaysProblem(['public', 'bad name']) // 'gateways[1] must be a token of 1 to 64 characters'
 */
export function gatewaysProblem(gateways: unknown): string | undefined {
  if (!Array.isArray(gateways)) return 'gateways must be a list of gateway names';
  if (gateways.length > MAX_ROUTE_GATEWAYS) return `gateways may list at most ${MAX_ROUTE_GATEWAYS} names`;
  for (let i = 0; i < gateways.length; i++) {
    const g = gateways[i];
    if (typeof g !== 'string' || !GATEWAY_NAME_PATTERN.test(g)) {
      return `gateways[${i}] must be a token of 1 to 64 characters`;
    }
  }
  return undefined;
}
