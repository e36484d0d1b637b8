import { z } from 'zod';
import { JsonValueSchema } from './json.ts';

/**
 * The asset record, one NDJSON line of a catalog batch, close to the Apache Atlas entity model.
 * docs/schemas/asset.schema.json is generated from this schema (a test keeps them equal), and
 * every asset is validated against it at the sink boundary.
 */
export const ClassificationSchema = z
  .object({
    /** Tag name, e.g. `Email (Cyera Data Class)`. */
    typeName: z.string().min(1).max(512),
    /** Tag attributes, e.g. `{ tokenization: "Plain" }`. */
    attributes: z.record(z.string(), JsonValueSchema).optional(),
  })
  .strict();

export const RelationshipSchema = z
  .object({
    /** Relationship type, e.g. `AnaplanLineItemUsesList`. */
    typeName: z.string().regex(/^[A-Z][A-Za-z0-9_]*$/),
    /** qualifiedName of the asset at the other end. */
    targetQualifiedName: z.string().min(1).max(4096),
  })
  .strict();

export const AssetSchema = z
  .object({
    /** Entity type, PascalCase and prefixed by the source, e.g. `CyeraTable`. */
    typeName: z.string().regex(/^[A-Z][A-Za-z0-9_]*$/, 'must be PascalCase, e.g. CyeraTable'),
    /** Unique, stable name: `<connector>/<tenant>/<path...>`. The catalog's upsert key. */
    qualifiedName: z.string().min(1).max(4096),
    /** Display name. */
    name: z.string().max(1024),
    /** qualifiedName of the parent in the hierarchy; absent for roots. */
    parentQualifiedName: z.string().min(1).max(4096).optional(),
    /** Metadata attributes (never data records). */
    attributes: z.record(z.string(), JsonValueSchema),
    /** Tags attached to the asset. */
    classifications: z.array(ClassificationSchema).optional(),
    /** Typed links to other assets of the same run. */
    relationships: z.array(RelationshipSchema).optional(),
  })
  .strict();

/** One metadata asset. */
export type Asset = z.infer<typeof AssetSchema>;
/** A tag on an asset. */
export type Classification = z.infer<typeof ClassificationSchema>;
/** A typed link between assets. */
export type Relationship = z.infer<typeof RelationshipSchema>;
