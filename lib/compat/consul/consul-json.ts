/**
 * Registry instances in Consul's catalog and health shapes. Every instance is shown, not only
 * those registered through Consul, so a Consul client discovers natively registered services too.
 */
import type { ServiceInstance } from '../../registry/model.js';
import type { ConsulCheckState, ConsulCheckStatus } from './consul-checks.js';
import { consulRecordOf } from './consul-registration.js';

/** The node every service appears on: the gateway. */
const NODE = 'fleetgate';
const DATACENTER = 'dc1';

/** The Consul view of one instance. */
export interface ConsulService {
  id: string;
  name: string;
  tags: string[];
  address: string;
  port: number;
  meta: Record<string, string>;
  weights: { Passing: number; Warning: number };
}

/** The Consul view of an instance (from its record, or derived from the fleetgate instance). */
export function consulServiceOf(inst: ServiceInstance): ConsulService {
  const rec = consulRecordOf(inst);
  if (rec !== undefined) return { ...rec };
  const url = new URL(inst.url);
  return {
    id: inst.instanceId,
    name: inst.service,
    tags: [],
    address: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    meta: {},
    weights: { Passing: inst.weight, Warning: 1 },
  };
}

/** The checks of an instance: the ones kept by this gateway, else one derived from its status. */
export function checksJson(inst: ServiceInstance, kept: readonly ConsulCheckState[], index: number) {
  const svc = consulServiceOf(inst);
  const derived: ConsulCheckStatus =
    inst.status === 'UP' ? 'passing' : inst.status === 'UNKNOWN' ? 'warning' : 'critical';
  const checks =
    kept.length > 0
      ? kept.map((c) => ({
          id: c.spec.checkId,
          name: c.spec.name,
          status: c.status,
          output: c.output,
          type: c.spec.kind,
        }))
      : [{ id: `service:${svc.id}`, name: `Service '${svc.name}' check`, status: derived, output: '', type: 'ttl' }];
  return checks.map((c) => ({
    Node: NODE,
    CheckID: c.id,
    Name: c.name,
    Status: c.status,
    Notes: '',
    Output: c.output,
    ServiceID: svc.id,
    ServiceName: svc.name,
    ServiceTags: svc.tags,
    Type: c.type,
    CreateIndex: index,
    ModifyIndex: index,
  }));
}

/** One `GET /v1/health/service/:name` entry. */
export function healthEntry(inst: ServiceInstance, kept: readonly ConsulCheckState[], index: number) {
  const svc = consulServiceOf(inst);
  return {
    Node: {
      ID: '',
      Node: NODE,
      Address: '127.0.0.1',
      Datacenter: DATACENTER,
      TaggedAddresses: null,
      Meta: {},
      CreateIndex: 1,
      ModifyIndex: 1,
    },
    Service: {
      ID: svc.id,
      Service: svc.name,
      Tags: svc.tags,
      Address: svc.address,
      Meta: svc.meta,
      Port: svc.port,
      Weights: svc.weights,
      EnableTagOverride: false,
      CreateIndex: index,
      ModifyIndex: index,
    },
    Checks: checksJson(inst, kept, index),
  };
}

/** One `GET /v1/catalog/service/:name` entry. */
export function catalogEntry(inst: ServiceInstance, index: number) {
  const svc = consulServiceOf(inst);
  return {
    ID: '',
    Node: NODE,
    Address: '127.0.0.1',
    Datacenter: DATACENTER,
    TaggedAddresses: null,
    NodeMeta: {},
    ServiceKind: '',
    ServiceID: svc.id,
    ServiceName: svc.name,
    ServiceTags: svc.tags,
    ServiceAddress: svc.address,
    ServiceWeights: svc.weights,
    ServiceMeta: svc.meta,
    ServicePort: svc.port,
    ServiceEnableTagOverride: false,
    CreateIndex: index,
    ModifyIndex: index,
  };
}
