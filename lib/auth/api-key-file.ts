/**
 * Reading API keys from a JSON or YAML file (`{ keys: [...] }` or a bare list of
 * {@link ApiKeySpec}), every failure naming the file and the entry.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { FleetgateError } from '../errors.js';
import { type ApiKeySpec, parseApiKeySpecs } from './api-key-spec.js';

/** The accepted shape, for error messages. */
export const API_KEY_FILE_FORM =
  'a readable JSON or YAML file: { keys: [{ name, key | sha256, permissions, expires, rateLimitClass }] }';

/**
 * Reads and validates a key file.
 * @param source the option or variable that named the file, for the error message.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the file, entry and field.
 * @example const keys = loadApiKeyFile('/etc/fleetgate/api-keys.yaml');
 */
export function loadApiKeyFile(path: string, source = 'apiKeys.file'): ApiKeySpec[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(source, path, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  try {
    return parseApiKeySpecs(parseYaml(text));
  } catch (err) {
    throw invalid(source, path, (err as Error).message);
  }
}

function invalid(source: string, path: string, reason: string): FleetgateError {
  return new FleetgateError('ERR_FG_INVALID_CONFIG', `${source}: ${path}: ${reason}`, {
    details: { option: source, value: path, expected: API_KEY_FILE_FORM },
  });
}
