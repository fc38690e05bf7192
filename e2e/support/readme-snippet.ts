/**
 * Runs a code block of README.md as it is written, in a child process: `from 'fleetgate'` is
 * pointed at this checkout's lib/ (through tsx), `from 'express'` optionally at another Express
 * (`express4`), and `app.listen(8080)` at a free loopback port that the child prints. Nothing
 * else in the block is changed, so the test fails when the README stops working.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { FLEETGATE_ROOT, fleetgateEnv } from './gateway-process.js';

/** The first ```ts block after the heading `## {heading}` in README.md. */
export function readmeBlock(heading: string): string {
  const readme = readFileSync(`${FLEETGATE_ROOT}README.md`, 'utf8');
  const at = readme.indexOf(`\n## ${heading}\n`);
  if (at === -1) throw new Error(`README.md has no section "## ${heading}"`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (match === null) throw new Error(`README.md section "${heading}" has no ts block`);
  return match[1] as string;
}

const LISTEN_LINE = 'app.listen(8080);';
const PORT_LINE = /^README LISTENING (\d+)$/m;

/** A README block running in a child; `close()` kills it. */
export interface RunningSnippet {
  url: string;
  output(): string;
  close(): Promise<void>;
}

/**
 * Starts `code` (a README block) with the rewrites above and waits (bounded) for its port.
 * @example await using app = await runReadmeSnippet(readmeBlock('Express in ten lines'), { express: 'express4' });
 */
export async function runReadmeSnippet(
  code: string,
  options: { express?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningSnippet & AsyncDisposable> {
  if (!code.includes(LISTEN_LINE)) throw new Error(`the README block no longer ends with ${LISTEN_LINE}`);
  const lib = pathToFileURL(`${FLEETGATE_ROOT}lib/index.ts`).href;
  const rewritten = code
    .replaceAll("from 'fleetgate'", `from '${lib}'`)
    .replaceAll("from 'express'", `from '${options.express ?? 'express'}'`)
    .replace(
      LISTEN_LINE,
      // Concatenation, not a template: the child, not this file, reads its own port.
      "const __server = app.listen(0, '127.0.0.1', () => console.log('README LISTENING ' + __server.address().port));",
    );
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', rewritten], {
    cwd: FLEETGATE_ROOT,
    env: fleetgateEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const port = PORT_LINE.exec(out)?.[1];
    if (port !== undefined) {
      return { url: `http://127.0.0.1:${port}`, output: () => out, close, [Symbol.asyncDispose]: close };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`the README block did not start listening:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
