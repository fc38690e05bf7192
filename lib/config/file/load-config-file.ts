/**
 * Reads `fleetgate.yaml` (the path comes from `FLEETGATE_CONFIG`) and validates it against
 * lib/config/file/config-schema.ts. Every problem names the file, the line and the key, e.g.
 * `fleetgate.yaml:14 routes[2].predicates.headers[0].regex: …`, in one `ERR_FG_INVALID_CONFIG`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { FleetgateError } from '../../errors.js';
import { type ConfigFile, configFileSchema } from './config-schema.js';

/** Largest config file accepted, in bytes. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * Loads and validates a config file.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the file, line and key of each problem.
 * @example const config = loadConfigFile(process.env.FLEETGATE_CONFIG!);
 */
export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `FLEETGATE_CONFIG: cannot read ${path}: ${(err as Error).message}`,
    );
  }
  return parseConfigText(text, basename(path));
}

/**
 * Parses and validates config text; `source` names it in messages.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG`.
 * @example parseConfigText('routes:\n  - { path: /a/**, target: "http://127.0.0.1:9" }', 'fleetgate.yaml')
 */
export function parseConfigText(text: string, source: string): ConfigFile {
  if (Buffer.byteLength(text) > MAX_CONFIG_FILE_BYTES) {
    throw invalid(`${source}: larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const line = lineCounter.linePos(e.pos[0]).line;
      return `${source}:${line}: ${e.message.split('\n')[0]}`;
    });
    throw invalid(lines.join('; '));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    // An alias bomb ("billion laughs") stops here, after bounded work.
    throw invalid(`${source}: ${(err as Error).message}`);
  }
  const result = configFileSchema.safeParse(data);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const key = keyText(path);
    const line = lineOf(doc, lineCounter, path);
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
        : issue.message;
    return `${source}${line === undefined ? '' : `:${line}`} ${key === '' ? '(top level)' : key}: ${message}`;
  });
  throw invalid(lines.join('; '));
}

/** `routes[2].predicates.headers[0]` for a zod path. */
export function keyText(path: readonly (string | number)[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out === '' ? k : `.${k}`;
  return out;
}

/** The line of the deepest node on `path` that exists in the document. */
function lineOf(
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range !== undefined && (n === 0 || isMap(node) || isSeq(node) || node !== undefined)) {
      return lineCounter.linePos(range[0]).line;
    }
  }
  return undefined;
}

function invalid(message: string): FleetgateError {
  return new FleetgateError('ERR_FG_INVALID_CONFIG', message);
}
