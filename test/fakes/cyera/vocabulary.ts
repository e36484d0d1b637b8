// The simulated tenant's fixed vocabulary and a stateless hash, so that any record can be made
// from (seed, indexes) alone: nothing is stored, millions of columns cost no memory.

/** Every personal value the simulator serves contains this; no asset may. */
export const PERSONAL_MARKER = 'SIMPERSONAL';
/** Text that stands for quoted record data (remediation advice, notes); no asset may hold it. */
export const RECORD_MARKER = 'SIMRECORDDATA';
/** The content of a malformed stream line; no error message may quote it. */
export const MALFORMED_MARKER = 'SIMMALFORMEDLINE';

/** A 32-bit hash of integers (murmur3's finaliser over a running mix). */
export function hash(...values: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) {
    h = Math.imul(h ^ (value >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** `n` lowercase hex digits from hashes of `values`. */
export function hex(n: number, ...values: readonly number[]): string {
  let text = '';
  for (let i = 0; text.length < n; i += 1) {
    text += hash(...values, i)
      .toString(16)
      .padStart(8, '0');
  }
  return text.slice(0, n);
}

/** A datastore kind: provider, type, engine. */
export interface DatastoreKind {
  readonly provider: string;
  readonly type: string;
  readonly engine: string;
  readonly infrastructure: string;
}

export const DATASTORE_KINDS: readonly DatastoreKind[] = [
  {
    provider: 'Snowflake',
    type: 'SNOWFLAKE_DATABASE',
    engine: 'snowflake',
    infrastructure: 'snowflake',
  },
  {
    provider: 'AWS',
    type: 'AWS_RDS_INSTANCE',
    engine: 'mysql',
    infrastructure: 'aws-rds-instance',
  },
  {
    provider: 'Azure',
    type: 'AZURE_SQL_DATABASE',
    engine: 'sqlserver',
    infrastructure: 'azure-sql-database',
  },
];

/** A data class and the regional variants of its classification name. */
export interface DataClass {
  readonly dataClassName: string;
  readonly variants: readonly string[];
  readonly group: string;
  readonly sensitivity: string;
}

export const DATA_CLASSES: readonly DataClass[] = [
  { dataClassName: 'Email', variants: ['Email'], group: 'Personal', sensitivity: 'Sensitive' },
  {
    dataClassName: 'Address',
    variants: ['Address Texas', 'Customer Address California'],
    group: 'Personal',
    sensitivity: 'Sensitive',
  },
  {
    dataClassName: 'Credit Card Number',
    variants: ['Credit Card Number'],
    group: 'Financial',
    sensitivity: 'VerySensitive',
  },
  {
    dataClassName: 'Phone Number',
    variants: ['Phone Number'],
    group: 'Personal',
    sensitivity: 'Sensitive',
  },
  {
    dataClassName: 'IP Address',
    variants: ['IP Address'],
    group: 'IT & Security',
    sensitivity: 'Internal',
  },
  {
    dataClassName: 'Product Code',
    variants: ['Product Code'],
    group: 'Business',
    sensitivity: 'NotSensitive',
  },
];

/** Cyera's display names of its sensitivity levels. */
export const SENSITIVITY_DISPLAY: Readonly<Record<string, string>> = {
  VerySensitive: 'Highly Confidential',
  Sensitive: 'Confidential',
  Internal: 'Internal',
  NotSensitive: 'Public',
};

export const TOKENIZATIONS = ['Plain', 'Tokenized', 'Masked', 'Hashed', 'Encrypted'] as const;

// Casing varies in Cyera's enums, so the simulator varies it too.
export const SEVERITIES = ['Critical', 'HIGH', 'Medium', 'low'] as const;
export const ISSUE_STATUSES = ['Open', 'InProgress', 'Resolved', 'open'] as const;
export const ISSUE_NAMES = [
  'Credit card number in plain text',
  'Sensitive data publicly accessible',
  'Stale admin access to sensitive data',
] as const;
export const ACCESS_LEVELS = ['Read', 'Write', 'Admin', 'read'] as const;
export const IDENTITY_CATEGORIES = ['User', 'Group', 'ServiceAccount'] as const;
export const COLUMN_TYPES = ['VARCHAR', 'NUMBER', 'TIMESTAMP_NTZ', 'BOOLEAN'] as const;

/** Picks an element by hash. */
export function pick<T>(list: readonly T[], h: number): T {
  const value = list[h % list.length];
  if (value === undefined) {
    throw new Error('pick from an empty list');
  }
  return value;
}
