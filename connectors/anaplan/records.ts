import { z } from 'zod';

// Schemas of what Anaplan answers. They strip every field they do not name: nothing that holds
// planning data (list items, cell values, property values) is ever named here, and users appear
// only as opaque ids. Anaplan omits a collection's key when it is empty and sends every id as a
// string; both are modelled below.

const id = z.string().min(1).max(128);
const text = z.string().max(4096).optional();
const ref = z.object({ id, name: z.string().max(1024).optional() });

/** `meta.paging` of the Integration API's list endpoints. */
export const PagingSchema = z.object({
  currentPageSize: z.int().nonnegative(),
  totalSize: z.int().nonnegative(),
  offset: z.int().nonnegative(),
});

export type Paging = z.infer<typeof PagingSchema>;

/** One page of a list endpoint: its paging and its items (none when Anaplan omitted the key). */
export interface Page<T> {
  readonly paging: Paging | undefined;
  readonly items: readonly T[];
}

/** A list page: `meta.paging` and, unless empty, the collection under `key`. */
export function pageSchema<T>(key: string, item: z.ZodType<T>): z.ZodType<Page<T>> {
  const meta = z.object({ paging: PagingSchema.optional() }).optional();
  return z.object({ meta, [key]: z.array(item).optional() }).transform((body) => ({
    paging: (body['meta'] as z.infer<typeof meta>)?.paging,
    items: (body[key] as T[] | undefined) ?? [],
  }));
}

/** `tokenInfo` of `POST /token/authenticate` and `/token/refresh`. */
export const TokenResponseSchema = z.object({
  status: z.string().max(64),
  tokenInfo: z.object({
    tokenValue: z.string().min(1).max(8192),
    /** Epoch milliseconds. */
    expiresAt: z.number().int().positive(),
    tokenId: z.string().max(128).optional(),
  }),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** The failure body of the auth API: only its status code is read (never its message). */
export const AuthFailureSchema = z.object({
  status: z
    .string()
    .regex(/^[A-Z_]{1,64}$/)
    .optional()
    .catch(undefined),
});

/** A workspace of `GET /workspaces?tenantDetails=true`. */
export const WorkspaceSchema = z.object({
  id,
  name: z.string().max(1024),
  active: z.boolean().optional(),
  sizeAllowance: z.number().nonnegative().optional(),
  currentSize: z.number().nonnegative().optional(),
});
export type Workspace = z.infer<typeof WorkspaceSchema>;

/** A model of `GET /models?modelDetails=true` (model URL and category ids left out). */
export const ModelSchema = z.object({
  id,
  name: z.string().max(1024),
  activeState: z.string().max(64).optional(),
  currentWorkspaceId: id,
  currentWorkspaceName: text,
  isoCreationDate: text,
  lastModified: text,
  lastModifiedByUserGuid: text,
  lastSavedSerialNumber: z.union([z.string().max(64), z.number()]).optional(),
  /** Bytes, with `modelDetails=true`. */
  memoryUsage: z.number().nonnegative().optional(),
});
export type Model = z.infer<typeof ModelSchema>;

/** A module, list or dashboard entry: `id, name, code?`. */
export const NamedObjectSchema = z.object({
  id,
  name: z.string().max(1024),
  code: text,
});
export type NamedObject = z.infer<typeof NamedObjectSchema>;

/** A line item of `GET …/lineItems?includeAll=true`. */
export const LineItemSchema = z.object({
  moduleId: id,
  moduleName: text,
  id,
  name: z.string().max(1024),
  code: text,
  format: z.string().max(64).optional(),
  formatMetadata: z.object({ dataType: z.string().max(64).optional() }).optional(),
  formula: z.string().max(100_000).optional(),
  formulaScope: text,
  summary: text,
  timeScale: text,
  timeRange: text,
  style: text,
  notes: text,
  isSummary: z.boolean().optional(),
  startOfSection: z.boolean().optional(),
  broughtForward: z.boolean().optional(),
  useSwitchover: z.boolean().optional(),
  breakback: z.boolean().optional(),
  cellCount: z.number().nonnegative().optional(),
  version: ref.optional(),
  appliesTo: z.array(ref).max(1000).optional(),
  dataTags: z.array(ref).max(1000).optional(),
  referencedBy: z.array(ref).max(100_000).optional(),
  parent: ref.optional(),
  readAccessDriver: ref.optional(),
  writeAccessDriver: ref.optional(),
});
export type LineItem = z.infer<typeof LineItemSchema>;

/** `metadata` of `GET …/lists/{id}`: the list's shape, never its items. */
export const ListMetadataSchema = z.object({
  metadata: z.object({
    id,
    name: z.string().max(1024),
    properties: z
      .array(z.object({ name: z.string().max(1024), format: text, notes: text }))
      .max(10_000)
      .optional(),
    hasSelectiveAccess: z.boolean().optional(),
    parent: ref.optional(),
    managedBy: text,
    numberedList: z.boolean().optional(),
    useTopLevelAsPageDefault: z.boolean().optional(),
    itemCount: z.number().nonnegative().optional(),
    workflowEnabled: z.boolean().optional(),
    productionData: z.boolean().optional(),
  }),
});
export type ListMetadata = z.infer<typeof ListMetadataSchema>['metadata'];

/** A view of `GET …/views?includesubsidiaryviews=true`. */
export const ViewSchema = z.object({
  id,
  name: z.string().max(1024),
  moduleId: id.optional(),
  code: text,
});
export type View = z.infer<typeof ViewSchema>;

const period = z.object({ periodText: text, date: text }).optional();

/** A version of `GET …/versions` (needs Workspace Administrator). */
export const VersionSchema = z.object({
  id,
  name: z.string().max(1024),
  code: text,
  isActual: z.boolean().optional(),
  isCurrent: z.boolean().optional(),
  editFrom: period,
  editTo: period,
  switchover: period,
  formula: z.string().max(100_000).optional(),
});
export type Version = z.infer<typeof VersionSchema>;

/** `GET …/modelCalendar` (needs Workspace Administrator): the model's time settings. */
export const ModelCalendarSchema = z.object({
  modelCalendar: z.object({
    calendarType: text,
    fiscalYear: z.object({ year: text, startDate: text, endDate: text }).optional(),
    currentPeriod: z.object({ periodText: text, lastDay: text }).optional(),
    pastYearsCount: z.number().int().optional(),
    futureYearsCount: z.number().int().optional(),
  }),
});
export type ModelCalendar = z.infer<typeof ModelCalendarSchema>['modelCalendar'];
