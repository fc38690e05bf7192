/**
 * The settings of `fleetgate.yaml` that have an environment variable, as variables, so that one
 * parser (lib/config/env.ts) validates both and the environment wins: `{ ...fileEnv, ...process.env }`.
 * They need a restart to change; a reload that changes them says so (see {@link restartOnlyChanges}).
 */
import type { ConfigFile } from './config-schema.js';

/**
 * The environment variables a config file sets.
 * @example envFromConfig({ gateway: { name: 'public' } }) // { GATEWAY_NAME: 'public' }
 */
export function envFromConfig(config: ConfigFile): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) env[name] = String(value);
  };
  set('GATEWAY_NAME', config.gateway?.name);
  set('PORT', config.gateway?.port);
  set('HOST', config.gateway?.host);
  set('PANIC_THRESHOLD', config.panicThreshold);
  set('SERVER_HEADERS_TIMEOUT', config.timeouts?.headers);
  set('SERVER_REQUEST_TIMEOUT', config.timeouts?.request);
  set('SERVER_KEEPALIVE_TIMEOUT', config.timeouts?.keepAlive);
  return env;
}

/**
 * What differs between two configurations in settings a reload cannot apply (the listener, the
 * gateway name, server and proxy timeouts, the panic threshold), by key.
 * @example restartOnlyChanges(old, next) // ['gateway.port']
 */
export function restartOnlyChanges(before: ConfigFile, after: ConfigFile): string[] {
  const keys: [string, (c: ConfigFile) => unknown][] = [
    ['gateway.name', (c) => c.gateway?.name],
    ['gateway.port', (c) => c.gateway?.port],
    ['gateway.host', (c) => c.gateway?.host],
    ['panicThreshold', (c) => c.panicThreshold],
    ['timeouts.headers', (c) => c.timeouts?.headers],
    ['timeouts.request', (c) => c.timeouts?.request],
    ['timeouts.keepAlive', (c) => c.timeouts?.keepAlive],
    ['timeouts.upstream', (c) => c.timeouts?.upstream],
    ['timeouts.connect', (c) => c.timeouts?.connect],
  ];
  return keys.filter(([, get]) => get(before) !== get(after)).map(([key]) => key);
}
