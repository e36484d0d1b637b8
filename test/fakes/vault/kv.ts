import { randomUUID } from 'node:crypto';

/** One KV v2 version. */
interface Kv2Version {
  data: Record<string, unknown> | null;
  readonly createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

interface Mount {
  readonly version: 1 | 2;
  readonly kv1: Map<string, Record<string, unknown>>;
  readonly kv2: Map<string, Kv2Version[]>;
}

/** A KV read's answer: status and JSON body, shaped as Vault sends them. */
export interface KvAnswer {
  readonly status: number;
  readonly body: unknown;
}

function envelope(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
    mount_type: 'kv',
    ...extra,
  };
}

function metadataOf(version: Kv2Version, number: number): Record<string, unknown> {
  return {
    created_time: version.createdTime,
    custom_metadata: null,
    deletion_time: version.deletionTime,
    destroyed: version.destroyed,
    version: number,
  };
}

/**
 * KV secrets engines, v1 and v2, under mounts that may have several segments and live in
 * namespaces (a mount is keyed by its full path, `<namespace>/<mount>`).
 */
export class FakeKv {
  readonly #mounts = new Map<string, Mount>();

  mount(fullPath: string, version: 1 | 2): void {
    this.#mounts.set(fullPath, { version, kv1: new Map(), kv2: new Map() });
  }

  /** Finds the mount a full request path falls under (the longest match). */
  resolve(fullPath: string): { mountPath: string; mount: Mount; rest: string } | undefined {
    let best: string | undefined;
    for (const path of this.#mounts.keys()) {
      if (fullPath.startsWith(`${path}/`) && (best === undefined || path.length > best.length)) {
        best = path;
      }
    }
    return best === undefined
      ? undefined
      : { mountPath: best, mount: this.#mounts.get(best)!, rest: fullPath.slice(best.length + 1) };
  }

  #mountOf(fullPath: string, version: 1 | 2): Mount {
    const mount = this.#mounts.get(fullPath);
    if (mount?.version !== version) {
      throw new Error(`no KV v${version} mount at ${fullPath}`);
    }
    return mount;
  }

  /** Writes a KV v2 secret; returns the new version number. */
  putV2(mountPath: string, path: string, data: Record<string, unknown>): number {
    const versions = this.#mountOf(mountPath, 2).kv2;
    const list = versions.get(path) ?? [];
    list.push({ data, createdTime: new Date().toISOString(), deletionTime: '', destroyed: false });
    versions.set(path, list);
    return list.length;
  }

  /** Soft-deletes (`destroy: false`) or destroys a KV v2 version. */
  removeV2(mountPath: string, path: string, version: number, destroy: boolean): void {
    const found = this.#mountOf(mountPath, 2).kv2.get(path)?.[version - 1];
    if (found === undefined) {
      throw new Error(`no version ${version} of ${path}`);
    }
    found.deletionTime = destroy ? found.deletionTime : new Date().toISOString();
    found.destroyed = destroy;
    found.data = null;
  }

  /** Deletes a KV v2 secret with all its versions and metadata (`vault kv metadata delete`). */
  removeAllV2(mountPath: string, path: string): void {
    this.#mountOf(mountPath, 2).kv2.delete(path);
  }

  putV1(mountPath: string, path: string, data: Record<string, unknown>): void {
    this.#mountOf(mountPath, 1).kv1.set(path, data);
  }

  /** Answers a GET under a mount: `data/<p>[?version=]` and `metadata/<p>` for v2, `<p>` for v1. */
  read(mount: Mount, rest: string, query: URLSearchParams): KvAnswer {
    if (mount.version === 1) {
      const data = mount.kv1.get(rest);
      return data === undefined
        ? { status: 404, body: { errors: [] } }
        : { status: 200, body: envelope(data, { lease_duration: 2_764_800, mount_type: 'kv' }) };
    }
    const [kind, ...segments] = rest.split('/');
    const versions = mount.kv2.get(segments.join('/'));
    if (kind === 'metadata' && versions !== undefined) {
      const all = Object.fromEntries(
        versions.map((version, index) => [String(index + 1), metadataOf(version, index + 1)]),
      );
      return { status: 200, body: envelope({ current_version: versions.length, versions: all }) };
    }
    if (kind !== 'data' || versions === undefined) {
      return { status: 404, body: { errors: [] } };
    }
    const wanted = query.get('version');
    const number = wanted === null || wanted === '0' ? versions.length : Number(wanted);
    const version = versions[number - 1];
    if (version === undefined) {
      return { status: 404, body: { errors: [] } };
    }
    const body = envelope({ data: version.data, metadata: metadataOf(version, number) });
    // Deleted and destroyed versions: 404 carrying the metadata (reference §4.2).
    return { status: version.data === null ? 404 : 200, body };
  }
}
