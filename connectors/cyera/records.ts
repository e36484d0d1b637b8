import { z } from 'zod';

// Schemas of what Cyera answers. They strip every field they do not name, so personal and
// record-level fields (owners' emails, job titles, remediation text) never enter the connector's
// objects, let alone an asset. Fields marked [I] in docs follow the simulator contract.

const text = z.string().max(1024).nullish();
const names = z.array(z.string().max(1024)).max(1000).nullish();

/** The answer of `POST /v1/login`. Some clients see `token` or `accessToken` instead of `jwt`. */
export const LoginResponseSchema = z
  .object({
    jwt: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    accessToken: z.string().min(1).optional(),
    /** Lifetime in seconds. */
    expiresIn: z.number().positive().optional(),
    /** Expiry as an RFC 1123 date. */
    expires: z.string().max(64).optional(),
  })
  .refine((body) => (body.jwt ?? body.token ?? body.accessToken) !== undefined, {
    message: 'has no jwt',
    path: ['jwt'],
  });
export type LoginResponse = z.infer<typeof LoginResponseSchema>;

/** The `{limit, offset, total, results}` envelope of Cyera's list endpoints. */
export function pageSchema<T extends z.ZodType>(
  item: T,
): z.ZodObject<{ total: z.ZodOptional<z.ZodNumber>; results: z.ZodArray<T> }> {
  return z.object({ total: z.int().nonnegative().optional(), results: z.array(item) });
}

/** A datastore of `GET /v2/datastores` (owners, tags and cloud URLs are left out on purpose). */
export const DatastoreSchema = z.object({
  uid: z.string().min(1).max(128),
  name: z.string().max(1024),
  provider: text,
  type: text,
  infrastructure: text,
  engine: text,
  dataType: text,
  regions: names,
  account: z.object({ name: text, inPlatformIdentifier: text }).nullish(),
  classificationGroups: names,
  frameworks: names,
  sensitivity: text,
  sensitivityDisplayName: text,
  recordCountBySensitivity: z.record(z.string().max(64), z.number()).nullish(),
  issues: z.record(z.string().max(64), z.number()).nullish(),
  scanningState: text,
  encrypted: z.boolean().nullish(),
  publicAccessibilityState: text,
  discoveredDate: text,
  lastDataRefresh: text,
});
export type Datastore = z.infer<typeof DatastoreSchema>;

/** A classification found on a table or column (field names of `/v1/classifications`). */
export const ClassificationRecordSchema = z
  .object({
    uid: text,
    dataClassName: z.string().min(1).max(256).nullish(),
    name: z.string().min(1).max(256).nullish(),
    classificationName: text,
    classificationGroup: text,
    sensitivity: text,
    sensitivityDisplayName: text,
    /** Flat form seen on table-level classifications [I]. */
    tokenization: text,
    context: z.object({ tokenization: text }).nullish(),
  })
  .refine((record) => (record.dataClassName ?? record.name) != null, {
    message: 'has neither dataClassName nor name',
    path: ['dataClassName'],
  });
export type ClassificationRecord = z.infer<typeof ClassificationRecordSchema>;

const classifications = z.array(ClassificationRecordSchema).max(1000).nullish();

/** A column inside a table line. */
export const ColumnRecordSchema = z.object({
  name: z.string().min(1).max(1024),
  dataType: text,
  classifications,
});
export type ColumnRecord = z.infer<typeof ColumnRecordSchema>;

/** One line of `GET /v1/tables/stream`: a table with its columns [I]. */
export const TableLineSchema = z.object({
  uid: z.string().max(256).nullish(),
  datastoreUid: z.string().max(128).nullish(),
  databaseName: z.string().min(1).max(1024),
  schemaName: z.string().min(1).max(1024),
  tableName: z.string().min(1).max(1024),
  sensitivity: text,
  sensitivityDisplayName: text,
  classifications,
  columns: z.array(ColumnRecordSchema).max(100_000).nullish(),
});
export type TableLine = z.infer<typeof TableLineSchema>;

/** An issue of `GET /v3/issues`: only what the per-database summary needs. */
export const IssueSchema = z.object({
  name: text,
  severity: text,
  status: text,
  datastoreUid: z.string().max(128).nullish(),
  /** The database the finding is in, when Cyera knows it [I]. */
  databaseName: text,
  policyUid: text,
  risk: z.object({ policyUid: text }).nullish(),
});
export type Issue = z.infer<typeof IssueSchema>;

/** An identity of `GET /v1/datastores/{uid}/identities`: no name, title or any personal field. */
export const IdentitySchema = z.object({
  category: text,
  /** Read | Write | Admin [I]. */
  accessLevel: text,
  isAdmin: z.boolean().nullish(),
  isStale: z.boolean().nullish(),
  /** The database the access applies to; absent for datastore-wide access [I]. */
  databaseName: text,
});
export type Identity = z.infer<typeof IdentitySchema>;
