/**
 * Writes docs/errors.md from the ERROR_CODES table in lib/errors.ts, so the documentation can
 * never drift from the code (lib/errors.test.ts checks it). Run: `npm run docs:errors`.
 */
import { writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../lib/errors.js';

const rows = Object.entries(ERROR_CODES).map(
  ([code, { status, description }]) => `| \`${code}\` | ${status} | ${description} |`,
);
const doc = `# Error codes

Every error fleetgate raises on purpose is a \`FleetgateError\` with a stable \`code\`. Over HTTP it is
sent as \`{"error":{"code":"ERR_FG_…","message":"…","details":…,"request_id":"…"}}\` (the request id also in
\`X-Request-Id\`: the client's own when it sent a safe one) with the status below (a few
call sites override the status, e.g. 405 for a wrong method on a known path). Test for one with
\`isFleetgateError(err, 'ERR_FG_…')\`.

| code | status | meaning |
| --- | --- | --- |
${rows.join('\n')}
`;
writeFileSync(new URL('../docs/errors.md', import.meta.url), doc);
console.log(`docs/errors.md: ${rows.length} codes`);
