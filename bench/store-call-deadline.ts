/**
 * What bounding one store call by a deadline costs, without a store: a call that answers at once
 * (as the in-memory backend does) run bare, through the per-call form StoreCalls used before
 * (withDeadline: a timer, a promise and two Promise.race each, plus a promise raced against
 * "store found down") and through CallDeadlines (one shared timer, one promise per call).
 * Calls run `concurrency` at a time; CPU is this process's (process.cpuUsage) per call. Rounds
 * rotate the order; each row prints the range over rounds and its ratio to the bare call.
 *
 *   node --import tsx bench/store-call-deadline.ts [calls=200000] [concurrency=1,16] [rounds=5]
 */
import { loadavg } from 'node:os';
import { realClock } from '../lib/clock.js';
import { CallDeadlines } from '../lib/registry/call-deadlines.js';
import { withDeadline } from '../lib/registry/store-deadline.js';

const calls = Number(process.argv[2] ?? 200_000);
const concurrencies = (process.argv[3] ?? '1,16').split(',').map(Number);
const rounds = Number(process.argv[4] ?? 5);

const answer = (): Promise<number> => Promise.resolve(1);
const deadlines = new CallDeadlines(realClock, 900, 'memory store');

/** The per-call form StoreCalls used before the shared timer. */
function perCall(): Promise<number> {
  let reject: ((err: Error) => void) | undefined;
  const foundDown = new Promise<never>((_, r) => {
    reject = r;
  });
  const inFlight = new Set([reject]);
  return withDeadline(realClock, 900, () => Promise.race([answer(), foundDown]), 'memory store').finally(() =>
    inFlight.clear(),
  );
}

const forms: Record<string, () => Promise<number>> = {
  bare: answer,
  'per-call deadline (before)': perCall,
  'shared deadline (CallDeadlines)': () => deadlines.run(answer),
};

async function run(form: () => Promise<number>, concurrency: number): Promise<number> {
  const start = process.cpuUsage();
  const worker = async (n: number) => {
    for (let i = 0; i < n; i++) await form();
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker(Math.floor(calls / concurrency))));
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / calls; // ns per call
}

console.log(
  `store call deadline: ${calls} calls per round, ${rounds} rounds, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const names = Object.keys(forms);
for (const concurrency of concurrencies) {
  const ns: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds + 1; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    for (const name of order) {
      const v = await run(forms[name]!, concurrency);
      if (r > 0) ns[name]!.push(v); // round 0 warms up
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const bare = ns.bare!;
  for (const name of names) {
    const xs = ns[name]!;
    const ratios = xs.map((x, i) => x / bare[i]!);
    console.log(
      `  concurrency ${String(concurrency).padStart(2)}  ${name.padEnd(32)} ${median(xs).toFixed(0)} ns CPU per call (rounds ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` +
        (name === 'bare'
          ? ''
          : `; ÷ bare ${median(ratios).toFixed(2)}× (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`),
    );
  }
}
deadlines.close();
console.log(
  `load after ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
