import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { CyeraParams } from './config.ts';
import type { Datastore } from './records.ts';

/** True when the datastore passes the params' filters (uids, provider, type, name glob). */
export function createDatastoreFilter(params: CyeraParams): (datastore: Datastore) => boolean {
  const uids = new Set(params.datastoreUids);
  const { namePattern } = params;
  return (datastore) =>
    (uids.size === 0 || uids.has(datastore.uid)) &&
    sameText(params.provider, datastore.provider) &&
    sameText(params.type, datastore.type) &&
    (namePattern === undefined || matchesGlob(namePattern, datastore.name));
}

function sameText(wanted: string | undefined, actual: string | null | undefined): boolean {
  return wanted === undefined || wanted.toLowerCase() === actual?.toLowerCase();
}

/**
 * True when `text` matches the glob (`*` any run, `?` one character), case-insensitively.
 * A glob and not a RegExp because the pattern may come from the control plane; this greedy
 * matcher with one backtrack point runs in O(pattern × text) at worst, never exponential.
 */
export function matchesGlob(glob: string, text: string): boolean {
  const pattern = Array.from(glob.toLowerCase());
  const chars = Array.from(text.toLowerCase());
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < chars.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === chars[t])) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      resume = t;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') {
    p += 1;
  }
  return p === pattern.length;
}

/**
 * The datastores a run extracts, sorted by uid (the order checkpoints rely on). Fails when a
 * selected uid is not visible to the credential: extracting the rest would look complete.
 */
export async function selectDatastores(
  datastores: AsyncIterable<Datastore>,
  params: CyeraParams,
): Promise<Datastore[]> {
  const keep = createDatastoreFilter(params);
  const selected: Datastore[] = [];
  const visible = new Set<string>();
  for await (const datastore of datastores) {
    visible.add(datastore.uid);
    if (keep(datastore)) {
      selected.push(datastore);
    }
  }
  const missing = params.datastoreUids.filter((uid) => !visible.has(uid));
  if (missing.length > 0) {
    throw new PerimeterError(
      'SOURCE_REQUEST_FAILED',
      `params.datastoreUids names ${missing.length} datastore(s) that Cyera does not list for this credential: ${missing.slice(0, 5).join(', ')}. Remove them from the selection or grant the API key's role access to them.`,
      { context: { endpoint: 'GET /v2/datastores', missing: missing.slice(0, 50) } },
    );
  }
  return selected.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
}
