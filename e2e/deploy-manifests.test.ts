/**
 * The Dockerfile and deploy/kubernetes/ checked without docker or a cluster (neither runs here):
 * every manifest parses and has the fields its kind needs; Services select pods that exist and
 * name their ports; the gateway is probed on /livez and /readyz, stops in preStop first, and its
 * termination grace covers preStop + SHUTDOWN_DELAY + SHUTDOWN_GRACE as the bin reads them; pods
 * run as non-root; the Dockerfile is multi-stage, non-root, and runs the bin package.json names.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseEnv } from '../lib/config/env.js';
import { FLEETGATE_ROOT } from './support/gateway-process.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, checked field by field below
type Doc = Record<string, any>;
const DIR = `${FLEETGATE_ROOT}deploy/kubernetes/`;
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const docs: Array<{ file: string; doc: Doc }> = files.flatMap((file) =>
  parseAllDocuments(readFileSync(`${DIR}${file}`, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${file} parses`);
    return { file, doc: d.toJS() as Doc };
  }),
);
const ofKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const API: Record<string, string> = { Deployment: 'apps/v1', Service: 'v1', Secret: 'v1', ConfigMap: 'v1' };

function env(container: Doc): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container.env ?? []) if (typeof e.value === 'string') out[e.name] = e.value;
  return out;
}

describe('deployment files', () => {
  it('every manifest is a known kind with its apiVersion and a DNS-1123 name', () => {
    assert.ok(files.length >= 3, `manifests in deploy/kubernetes: ${files.join(', ')}`);
    for (const { file, doc } of docs) {
      assert.equal(doc.apiVersion, API[doc.kind], `${file}: ${doc.kind} apiVersion`);
      assert.match(doc.metadata?.name ?? '', NAME, `${file}: metadata.name`);
    }
  });

  it('Deployments: selector matches the template, containers have an image, named ports and non-root pods', () => {
    const deployments = ofKind('Deployment');
    assert.ok(deployments.length >= 3, 'gateway, store and sample service');
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) assert.equal(labels[k], v, d.metadata.name);
      assert.equal(d.spec.template.spec.securityContext?.runAsNonRoot, true, `${d.metadata.name} runs as non-root`);
      for (const c of d.spec.template.spec.containers) {
        assert.match(c.image, /^[\w.\-/:]+:[\w.-]+$/, `${c.name}: a tagged image`);
        for (const p of c.ports ?? []) assert.ok(Number.isInteger(p.containerPort) && p.name, `${c.name}: named port`);
        for (const probe of [c.readinessProbe, c.livenessProbe].filter(Boolean)) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          assert.ok(
            (c.ports ?? []).some((p: Doc) => p.name === port || p.containerPort === port),
            `${c.name}: probe port ${port} is declared`,
          );
        }
      }
      const volumes = new Set((d.spec.template.spec.volumes ?? []).map((v: Doc) => v.name));
      for (const c of d.spec.template.spec.containers)
        for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${c.name}: volume ${m.name} exists`);
    }
  });

  it('Services select the pods of a Deployment and target a declared port; secrets and config maps referenced exist', () => {
    const deployments = ofKind('Deployment');
    for (const s of ofKind('Service')) {
      const target = deployments.find((d) =>
        Object.entries(s.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
      );
      assert.ok(target, `Service ${s.metadata.name} selects a Deployment`);
      const ports = target.spec.template.spec.containers.flatMap((c: Doc) => c.ports ?? []);
      for (const p of s.spec.ports)
        assert.ok(
          ports.some((cp: Doc) => cp.name === p.targetPort || cp.containerPort === p.targetPort),
          `Service ${s.metadata.name}: targetPort ${p.targetPort}`,
        );
    }
    const secrets = new Map(ofKind('Secret').map((s) => [s.metadata.name, s]));
    const maps = new Set(ofKind('ConfigMap').map((c) => c.metadata.name));
    for (const d of deployments) {
      for (const c of d.spec.template.spec.containers)
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref)
            assert.ok(secrets.get(ref.name)?.stringData?.[ref.key] !== undefined, `secret ${ref.name}/${ref.key}`);
        }
      for (const v of d.spec.template.spec.volumes ?? [])
        if (v.configMap) assert.ok(maps.has(v.configMap.name), `config map ${v.configMap.name}`);
    }
  });

  it('the gateway: /livez and /readyz probes, preStop, and a grace covering preStop + SHUTDOWN_DELAY + SHUTDOWN_GRACE', () => {
    const gw = ofKind('Deployment').find((d) => d.metadata.name === 'fleetgate');
    assert.ok(gw);
    const pod = gw.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/livez');
    const vars = env(c);
    // The bin's own parser judges the variables: what passes here starts the real gateway.
    const parsed = parseEnv(vars);
    assert.equal(parsed.port, c.ports[0].containerPort);
    assert.equal(parsed.registryType, 'REDIS');
    const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
    assert.ok(preStop > 0, 'preStop lets endpoint removal propagate first');
    const needS = preStop + (parsed.shutdownDelayMs + parsed.shutdownGraceMs) / 1000;
    assert.ok(pod.terminationGracePeriodSeconds > needS, `grace ${pod.terminationGracePeriodSeconds} s > ${needS} s`);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  });

  it('the sample service uses the client SDK from the image and registers its own routes', () => {
    const cm = ofKind('ConfigMap').find((m) => m.metadata.name === 'hello-service');
    const program = cm?.data?.['main.mjs'] as string;
    assert.match(program, /from '\/app\/dist\/lib\/client\/index\.js'/);
    assert.match(program, /registerService\(/);
    assert.match(program, /handleSignals: true/);
    const pkg = JSON.parse(readFileSync(`${FLEETGATE_ROOT}package.json`, 'utf8')) as { exports: Record<string, Doc> };
    assert.equal(pkg.exports['./client']?.default, './dist/lib/client/index.js', 'the path the sample imports');
  });

  it('Dockerfile: multi-stage, non-root, runs the bin package.json names, copies only what exists', () => {
    const text = readFileSync(`${FLEETGATE_ROOT}Dockerfile`, 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    const stages = lines.filter((l) => /^FROM\s/i.test(l));
    assert.ok(stages.length >= 2, 'multi-stage');
    for (const s of stages) assert.match(s, /^FROM node:20[\w.-]*\s+AS\s+\w+$/i, 'pinned Node 20 base, named stage');
    const runtime = lines.slice(lines.indexOf(stages.at(-1) as string));
    const user = runtime.find((l) => /^USER\s/i.test(l));
    assert.ok(user && !/\broot\b|\s0$/.test(user), `non-root user in the runtime stage: ${user}`);
    const cmd = runtime.find((l) => /^CMD\s/i.test(l)) as string;
    const argv = JSON.parse(cmd.replace(/^CMD\s+/i, '')) as string[];
    const pkg = JSON.parse(readFileSync(`${FLEETGATE_ROOT}package.json`, 'utf8')) as { bin: Record<string, string> };
    assert.deepEqual(argv, ['node', pkg.bin.fleetgate]);
    assert.ok(existsSync(`${FLEETGATE_ROOT}${pkg.bin.fleetgate.replace(/^dist\//, '').replace(/\.js$/, '.ts')}`));
    for (const l of lines.filter((x) => /^COPY\s/i.test(x) && !/--from=/.test(x))) {
      const parts = l.split(/\s+/).slice(1, -1);
      for (const src of parts) assert.ok(existsSync(`${FLEETGATE_ROOT}${src}`), `COPY source ${src} exists`);
    }
    const ignore = readFileSync(`${FLEETGATE_ROOT}.dockerignore`, 'utf8').split('\n');
    assert.ok(ignore.includes('node_modules'), '.dockerignore keeps the host node_modules out');
  });
});
