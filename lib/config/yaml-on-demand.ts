/**
 * YAML parsing that loads the `yaml` package on first use, so a process that never reads a YAML
 * file (the bin without `FLEETGATE_CONFIG` or `REGISTRY_SERVICE_KEYS_FILE`) never pays its memory.
 * Synchronous, like the configuration parsing that calls it.
 */
import { createRequire } from 'node:module';

type YamlModule = typeof import('yaml');

let yaml: YamlModule | undefined;

/**
 * Parses YAML (and so JSON) text; throws the `yaml` package's error on invalid text.
 * @example parseYamlText('keys: []') // { keys: [] }
 */
export function parseYamlText(text: string): unknown {
  // The package's `node` export is CommonJS: the same instance an `import 'yaml'` elsewhere gets.
  yaml ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yaml.parse(text);
}
