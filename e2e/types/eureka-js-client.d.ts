/** The part of eureka-js-client 4.5.0 (CommonJS, untyped) the compatibility e2e test uses. */
declare module 'eureka-js-client' {
  import { EventEmitter } from 'node:events';

  export interface EurekaInstance {
    app: string;
    instanceId?: string;
    hostName: string;
    ipAddr: string;
    port: number | { $: number; '@enabled': boolean | string };
    status?: string;
    vipAddress: string;
    dataCenterInfo: { '@class'?: string; name: string };
    healthCheckUrl?: string;
    statusPageUrl?: string;
    homePageUrl?: string;
    metadata?: Record<string, string>;
    actionType?: string;
  }

  export interface EurekaConfig {
    instance: EurekaInstance;
    eureka: {
      host: string;
      port: number;
      servicePath?: string;
      heartbeatInterval?: number;
      registryFetchInterval?: number;
      maxRetries?: number;
      requestRetryDelay?: number;
      fetchRegistry?: boolean;
    };
    logger?: {
      debug(...a: unknown[]): void;
      info(...a: unknown[]): void;
      warn(...a: unknown[]): void;
      error(...a: unknown[]): void;
    };
    requestMiddleware?: (request: Record<string, unknown>, done: (request: Record<string, unknown>) => void) => void;
  }

  export class Eureka extends EventEmitter {
    constructor(config: EurekaConfig);
    start(callback?: (err?: Error | null) => void): void;
    stop(callback?: (err?: Error | null) => void): void;
    getInstancesByAppId(appId: string): EurekaInstance[];
    getInstancesByVipAddress(vipAddress: string): EurekaInstance[];
  }
}
