import { PerimeterError, isLoopbackHost } from '../../agent/plugin-api/index.ts';
import { DEFAULT_REGIONAL_ENDPOINT } from './profile.ts';
import type { GcpSmProfile } from './profile.ts';

/** Where one client connects: host, port and scheme (http only for a loopback fake). */
export interface GcpEndpoint {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'https' | 'http';
}

const GLOBAL_ENDPOINT = 'secretmanager.googleapis.com';

function parseEndpoint(
  raw: string,
  key: string,
  transport: GcpSmProfile['transport'],
): GcpEndpoint {
  const url = new URL(/^https?:\/\//.test(raw) ? raw : `https://${raw}`);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  if (protocol === 'http' && (!isLoopbackHost(url.hostname) || transport !== 'rest')) {
    throw new PerimeterError(
      'CONFIG_INVALID',
      `secretStores.<profile>.${key}: plain http is allowed only for a loopback endpoint with transport "rest". Use an https endpoint`,
      { context: { store: 'gcp-sm', key } },
    );
  }
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
  return { host: url.hostname, port, protocol };
}

/**
 * The endpoint for secrets in `location` ('' for global ones). Regional secrets live only on
 * their regional endpoint (`secretmanager.<location>.rep.googleapis.com`); the global endpoint
 * answers NOT_FOUND for them (reference §3.5, pitfall 6).
 */
export function endpointFor(profile: GcpSmProfile, location: string): GcpEndpoint {
  if (location === '') {
    return parseEndpoint(profile.apiEndpoint ?? GLOBAL_ENDPOINT, 'apiEndpoint', profile.transport);
  }
  const template = profile.regionalApiEndpoint ?? DEFAULT_REGIONAL_ENDPOINT;
  return parseEndpoint(
    template.replaceAll('{location}', location),
    'regionalApiEndpoint',
    profile.transport,
  );
}
