/**
 * The `fleetgate/backends/etcd` entry point: the etcd registry backend and what a user needs to
 * share health probing over the same etcd (lib/health/etcd-check-lease.ts). A barrel on the top
 * floor, so the registry never imports the health layer to offer it.
 */
export { EtcdCheckLease } from '../health/etcd-check-lease.js';
export { ETCD_BACKEND_DEFAULTS, EtcdBackend, type EtcdBackendOptions } from '../registry/backends/etcd.js';
export { createEtcdClient, type EtcdClientOptions } from '../registry/backends/etcd-values.js';
