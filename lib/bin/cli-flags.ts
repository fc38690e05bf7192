/**
 * The `fleetgate` bin's only command-line flags: `--help` and `--version`. Everything else is
 * configured from the environment (README "The standalone gateway"), so the help text is the list of variables.
 */
import { packageVersion } from '../version.js';

/** The text `fleetgate --help` prints. */
export const HELP_TEXT = `Usage: fleetgate [--help | --version]

A standalone fleetgate gateway, configured from the environment (12-factor).

Listening
  PORT (or ERUGATEWAYPORT)     port to listen on (8080; 0 picks a free one)
  HOST                         address to bind
  GATEWAY_NAME                 this gateway's name (Via, named-gateway routes)
Registry
  REGISTRY_TYPE                INMEMORY (default) | REDIS | REDIS_CLUSTER | ETCD
  REGISTRY_REDIS_ADDR          redis://host:6379 (cluster: comma-separated seeds)
  REGISTRY_ETCD_ENDPOINTS      host:2379,...
  REGISTRY_TTL                 instance lease (90s)
  REGISTRY_ALLOW_FROM          CIDRs that may register (loopback)
  REGISTRY_TOKEN               bearer token for the registration API
  REGISTRY_SERVICE_KEYS_FILE   per-service keys and permissions
  REGISTRY_PRESERVE_THRESHOLD  self-preservation threshold (0.15)
  REGISTRY_REGISTER_LIMIT      registrations per source address
  REGISTRY_MAX_INSTANCES       instances this gateway holds in total (20000)
  REGISTRY_MAX_INSTANCES_PER_SERVICE  instances per service (5000)
  REGISTRY_MAX_ROUTES_PER_SERVICE     routes per service
  REGISTRY_LIST_TIMEOUT        bound on a full re-list of the store (10s)
Health checks
  HEALTH_CHECK_INTERVAL (30s), HEALTH_CHECK_TIMEOUT (5s), HEALTH_MAX_FAILURES (3),
  HEALTH_DOWN_INTERVAL (120s), HEALTH_STOP_AFTER (10)
Front door
  TRUSTED_PROXIES, ADMIN_ALLOW_FROM (loopback), ADMIN_TOKEN, PANIC_THRESHOLD (off),
  GATEWAY_MAX_HOPS, FLEETGATE_CONFIG (fleetgate.yaml)
Server and shutdown
  SERVER_HEADERS_TIMEOUT, SERVER_REQUEST_TIMEOUT, SERVER_KEEPALIVE_TIMEOUT,
  SERVER_MAX_HEADER_SIZE, SERVER_MAX_CONNECTIONS, SHUTDOWN_DELAY, SHUTDOWN_GRACE
Telemetry
  TRACE_URL                    OTLP endpoint: host:4317 or grpc://host:4317 (gRPC),
                               http(s)://host:4318 (HTTP); OTEL_EXPORTER_OTLP_PROTOCOL overrides
  LOG_LEVEL                    pino level (info)
  ACCESS_LOG                   share of proxied requests in the access log (1; 5xx always; off)

Invalid values stop start-up with a message naming the variable.
Docs: README.md and docs/ in the package.
`;

/**
 * Handles `--help`/`-h` and `--version`/`-v`: prints and returns true (the bin then exits 0).
 * Any other argument is refused: returns the message to print before exiting 2.
 * @example const handled = handleCliFlags(process.argv.slice(2), (s) => process.stdout.write(s));
 */
export function handleCliFlags(args: readonly string[], print: (text: string) => void): boolean | string {
  if (args.length === 0) return false;
  const [first] = args;
  if (args.length === 1 && (first === '--help' || first === '-h')) {
    print(HELP_TEXT);
    return true;
  }
  if (args.length === 1 && (first === '--version' || first === '-v')) {
    print(`${packageVersion()}\n`);
    return true;
  }
  return `fleetgate: unknown argument ${JSON.stringify(args.join(' '))}; configure it with environment variables (fleetgate --help)\n`;
}
