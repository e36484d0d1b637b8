import type { z } from 'zod';
import type {
  Clock,
  HttpClient,
  HttpQuery,
  HttpResponse,
  Logger,
  TokenSession,
} from '../../agent/plugin-api/index.ts';
import { createAnaplanSession, tokenHeader } from './auth.ts';
import type { AnaplanToken } from './auth.ts';
import type { AnaplanConfig } from './config.ts';
import {
  LineItemSchema,
  ListMetadataSchema,
  ModelCalendarSchema,
  ModelSchema,
  NamedObjectSchema,
  VersionSchema,
  ViewSchema,
  WorkspaceSchema,
  pageSchema,
} from './records.ts';
import type {
  LineItem,
  ListMetadata,
  Page,
  Model,
  ModelCalendar,
  NamedObject,
  Version,
  View,
  Workspace,
} from './records.ts';

/** The Integration API's base path. */
export const API_BASE_PATH = '/2/0';

/**
 * Every path the connector reads (`*` is one segment). The HTTP client refuses any other GET,
 * so the data endpoints (list items, cell data, view data, files, exports) can never be called.
 */
export const READ_PATHS = [
  '/2/0/workspaces',
  '/2/0/models',
  '/2/0/workspaces/*/models/*/modules',
  '/2/0/workspaces/*/models/*/lineItems',
  '/2/0/workspaces/*/models/*/lists',
  '/2/0/workspaces/*/models/*/lists/*',
  '/2/0/workspaces/*/models/*/views',
  '/2/0/workspaces/*/models/*/versions',
  '/2/0/workspaces/*/models/*/modelCalendar',
] as const;

/** A model-scoped GET: the model's workspace, its id and the path below them. */
interface ModelPath {
  readonly workspaceId: string;
  readonly modelId: string;
}

/** What a model-scoped listing answered: its items, or the status that refused them. */
export type Readable<T> =
  | { readonly readable: true; readonly value: T }
  | { readonly readable: false; readonly status: number };

/** What an {@link AnaplanClient} needs. */
export interface AnaplanClientOptions {
  readonly config: AnaplanConfig;
  readonly http: HttpClient;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * Anaplan's Integration API for one run: every call carries the session's token; lists are read
 * page by page through `meta.paging`. Model-scoped reads accept 404 (a model the user cannot
 * open) and, for the admin-only ones, 403: the caller records those as skipped.
 */
export class AnaplanClient {
  readonly #options: AnaplanClientOptions;
  readonly #session: TokenSession<AnaplanToken>;

  constructor(options: AnaplanClientOptions, session?: TokenSession<AnaplanToken>) {
    this.#options = options;
    this.#session = session ?? createAnaplanSession(options);
  }

  /**
   * The same tenant and token for one model's reads, whose requests stop when `signal` aborts
   * (its per-model timeout); closing it is not needed.
   */
  forObject(signal: AbortSignal): AnaplanClient {
    return new AnaplanClient({ ...this.#options, signal }, this.#session);
  }

  /** Logs in now (for `check`). */
  async login(): Promise<void> {
    await this.#session.login();
  }

  /** Logs out; idempotent, never throws. */
  close(): Promise<void> {
    return this.#session.close();
  }

  /** The workspaces the user can see, with their size allowance. */
  workspaces(): AsyncGenerator<Workspace> {
    return this.#paginate(`${API_BASE_PATH}/workspaces`, 'workspaces', WorkspaceSchema, {
      tenantDetails: true,
    });
  }

  /** The models the user can see, with state and memory use. */
  models(): AsyncGenerator<Model> {
    return this.#paginate(`${API_BASE_PATH}/models`, 'models', ModelSchema, {
      modelDetails: true,
    });
  }

  modules(model: ModelPath): Promise<Readable<AsyncGenerator<NamedObject>>> {
    return this.#modelListing(model, 'modules', 'modules', NamedObjectSchema);
  }

  lineItems(model: ModelPath): Promise<Readable<AsyncGenerator<LineItem>>> {
    return this.#modelListing(model, 'lineItems', 'items', LineItemSchema, { includeAll: true });
  }

  lists(model: ModelPath): Promise<Readable<AsyncGenerator<NamedObject>>> {
    return this.#modelListing(model, 'lists', 'lists', NamedObjectSchema);
  }

  views(model: ModelPath): Promise<Readable<AsyncGenerator<View>>> {
    return this.#modelListing(model, 'views', 'views', ViewSchema, {
      includesubsidiaryviews: true,
    });
  }

  versions(model: ModelPath): Promise<Readable<AsyncGenerator<Version>>> {
    return this.#modelListing(model, 'versions', 'versionMetadata', VersionSchema);
  }

  async listMetadata(model: ModelPath, listId: string): Promise<Readable<ListMetadata>> {
    const path = `${modelPath(model)}/lists/${encodeURIComponent(listId)}`;
    const response = await this.#get(
      path,
      'GET /workspaces/{w}/models/{m}/lists/{id}',
      {},
      [403, 404],
    );
    return response.status >= 400
      ? refused(response)
      : { readable: true, value: (await response.json(ListMetadataSchema)).metadata };
  }

  async calendar(model: ModelPath): Promise<Readable<ModelCalendar>> {
    const path = `${modelPath(model)}/modelCalendar`;
    const endpoint = 'GET /workspaces/{w}/models/{m}/modelCalendar';
    const response = await this.#get(path, endpoint, {}, [403, 404]);
    return response.status >= 400
      ? refused(response)
      : { readable: true, value: (await response.json(ModelCalendarSchema)).modelCalendar };
  }

  /**
   * Reads the first page of a model's listing; a 403 or 404 comes back as not readable, so a
   * model the user cannot open is skipped instead of failing the run. The rest pages on.
   */
  async #modelListing<T>(
    model: ModelPath,
    resource: string,
    key: string,
    item: z.ZodType<T>,
    query: HttpQuery = {},
  ): Promise<Readable<AsyncGenerator<T>>> {
    const path = `${modelPath(model)}/${resource}`;
    const endpoint = `GET /workspaces/{w}/models/{m}/${resource}`;
    const first = await this.#get(path, endpoint, this.#pageQuery(query, 0), [403, 404]);
    if (first.status >= 400) {
      return refused(first);
    }
    const schema = pageSchema(key, item);
    return { readable: true, value: this.#pages(path, endpoint, schema, query, first) };
  }

  async *#paginate<T>(
    path: string,
    key: string,
    item: z.ZodType<T>,
    query: HttpQuery,
  ): AsyncGenerator<T> {
    const endpoint = `GET ${path.slice(API_BASE_PATH.length)}`;
    const first = await this.#get(path, endpoint, this.#pageQuery(query, 0));
    yield* this.#pages(path, endpoint, pageSchema(key, item), query, first);
  }

  /** Pages on from `first`: `offset += currentPageSize` until `totalSize` is reached. */
  async *#pages<T>(
    path: string,
    endpoint: string,
    schema: z.ZodType<Page<T>>,
    query: HttpQuery,
    first: HttpResponse,
  ): AsyncGenerator<T> {
    let response = first;
    for (let offset = 0; ;) {
      const page = await response.json(schema);
      yield* page.items;
      // Anaplan truncates a larger `limit` silently: the page's own size moves the offset.
      offset += page.paging?.currentPageSize ?? page.items.length;
      if (page.paging === undefined || page.items.length === 0 || offset >= page.paging.totalSize) {
        return;
      }
      response = await this.#get(path, endpoint, this.#pageQuery(query, offset));
    }
  }

  #pageQuery(query: HttpQuery, offset: number): HttpQuery {
    return { ...query, offset, limit: this.#options.config.pageSize };
  }

  #get(
    path: string,
    endpoint: string,
    query: HttpQuery,
    acceptStatus?: readonly number[],
  ): Promise<HttpResponse> {
    const { config, http, signal } = this.#options;
    return this.#session.withToken((token) =>
      http.request({
        method: 'GET',
        url: `${config.apiUrl}${path}`,
        query,
        headers: { accept: 'application/json', authorization: tokenHeader(token) },
        endpoint,
        ...(acceptStatus === undefined ? {} : { acceptStatus }),
        signal,
      }),
    );
  }
}

function modelPath(model: ModelPath): string {
  const workspace = encodeURIComponent(model.workspaceId);
  return `${API_BASE_PATH}/workspaces/${workspace}/models/${encodeURIComponent(model.modelId)}`;
}

async function refused(response: HttpResponse): Promise<{ readable: false; status: number }> {
  // The error body is discarded unread: it is not needed and may quote the request.
  await response.dump();
  return { readable: false, status: response.status };
}
