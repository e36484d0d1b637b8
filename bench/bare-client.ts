// The bare client: the least work that reads the same data from the same simulator. It logs in,
// reads the Cyera table streams (split on LF, `JSON.parse` each line), the Cyral data maps or
// the Anaplan line-item pages (`JSON.parse` each document), counts records, and does nothing else. Its CPU per record is
// the floor the agent is compared with. Run in a process of its own by bench/run.ts:
//
//   node bench/bare-client.ts cyera '{"url":…,"clientId":…,"secret":…}'
//   node bench/bare-client.ts cyral '{"url":…,"clientId":…,"clientSecret":…}'
//   node bench/bare-client.ts anaplan '{"authUrl":…,"apiUrl":…,"user":…,"password":…}'
//
// Prints one JSON line: records and columns read, CPU seconds, wall seconds, peak RSS.
import { request } from 'undici';

interface Counts {
  records: number;
  columns: number;
}

async function getJson(url: string, headers: Record<string, string>): Promise<unknown> {
  const response = await request(url, { headers });
  if (response.statusCode !== 200) {
    throw new Error(`GET ${new URL(url).pathname} answered ${response.statusCode}`);
  }
  return JSON.parse(await response.body.text()) as unknown;
}

async function cyera(info: Record<string, string>, counts: Counts): Promise<void> {
  const base = info['url'] ?? '';
  const login = await request(`${base}/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: info['clientId'], secret: info['secret'] }),
  });
  const { jwt } = (await login.body.json()) as { jwt: string };
  const auth = { authorization: `Bearer ${jwt}` };
  const datastores = (await getJson(`${base}/v2/datastores?limit=1000`, auth)) as {
    results: { uid: string }[];
  };
  for (const { uid } of datastores.results) {
    const stream = await request(
      `${base}/v1/tables/stream?datastoreUid=${encodeURIComponent(uid)}`,
      { headers: { ...auth, accept: 'application/x-ndjson' } },
    );
    let rest = '';
    stream.body.setEncoding('utf8');
    for await (const chunk of stream.body as AsyncIterable<string>) {
      const text = rest + chunk;
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        if (end > start) {
          const table = JSON.parse(text.slice(start, end)) as { columns?: unknown[] };
          counts.records += 1;
          counts.columns += table.columns?.length ?? 0;
        }
        start = end + 1;
      }
      rest = text.slice(start);
    }
  }
}

async function cyral(info: Record<string, string>, counts: Counts): Promise<void> {
  const base = info['url'] ?? '';
  const login = await request(`${base}/v1/users/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: info['clientId'] ?? '',
      client_secret: info['clientSecret'] ?? '',
    }).toString(),
  });
  const { access_token: token } = (await login.body.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${token}` };
  const { repos } = (await getJson(`${base}/v1/repos`, auth)) as { repos: { id: string }[] };
  for (const { id } of repos) {
    const map = (await getJson(`${base}/v1/repos/${id}/datamap`, auth)) as {
      labels: Record<string, { attributes: string[] }>;
    };
    counts.records += 1;
    for (const label of Object.values(map.labels)) {
      counts.columns += label.attributes.length;
    }
  }
}

async function anaplan(info: Record<string, string>, counts: Counts): Promise<void> {
  const basic = Buffer.from(`${info['user']}:${info['password']}`).toString('base64');
  const login = await request(`${info['authUrl']}/token/authenticate`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
  });
  const { tokenInfo } = (await login.body.json()) as { tokenInfo: { tokenValue: string } };
  const auth = { authorization: `AnaplanAuthToken ${tokenInfo.tokenValue}` };
  const api = `${info['apiUrl']}/2/0`;
  const { models = [] } = (await getJson(`${api}/models`, auth)) as {
    models?: { id: string; currentWorkspaceId: string }[];
  };
  for (const model of models) {
    const path = `${api}/workspaces/${model.currentWorkspaceId}/models/${model.id}`;
    for (const [resource, key] of [
      ['lineItems', 'items'],
      ['modules', 'modules'],
      ['lists', 'lists'],
    ] as const) {
      for (let offset = 0; ;) {
        const page = (await getJson(
          `${path}/${resource}?includeAll=true&limit=5000&offset=${offset}`,
          auth,
        )) as Record<string, unknown> & {
          meta: { paging: { currentPageSize: number; totalSize: number } };
        };
        const items = (page[key] as unknown[] | undefined) ?? [];
        counts.records += items.length;
        offset += page.meta.paging.currentPageSize;
        if (items.length === 0 || offset >= page.meta.paging.totalSize) {
          break;
        }
      }
    }
  }
}

const [kind, json = '{}'] = process.argv.slice(2);
const info = JSON.parse(json) as Record<string, string>;
const counts: Counts = { records: 0, columns: 0 };
const started = performance.now();
const clients: Record<string, typeof cyera> = { cyera, cyral, anaplan };
await (clients[kind ?? ''] ?? cyera)(info, counts);
const usage = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({
    ...counts,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    wallSeconds: (performance.now() - started) / 1000,
    peakRssBytes: usage.maxRSS * 1024,
  })}\n`,
);
