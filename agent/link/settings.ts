import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DestinationPolicy } from '../http/types.ts';
import { PerimeterError, coerceError, urlRefinement } from '../plugin-api/index.ts';
import { servicePolicy } from '../http/policy.ts';

const SECRET_REF_PATTERN = /^[a-z][a-z0-9-]*:\/\/.+/;

/**
 * Longest long-poll hold. It stays under the HTTP client's default 30 s header timeout and under
 * the idle timeout of most corporate proxies, which cut a silent connection after 30 to 60 s.
 */
export const MAX_POLL_WAIT_SECONDS = 25;

/** Jittered exponential backoff of failed control-plane calls. */
export const ControlPlaneBackoffSchema = z
  .strictObject({
    baseMs: z
      .int()
      .min(1)
      .max(60_000)
      .default(1000)
      .describe('Ceiling of the wait after the first failure; it doubles with each further one.'),
    maxMs: z
      .int()
      .min(1)
      .max(3_600_000)
      .default(60_000)
      .describe(
        'Largest ceiling; each wait is uniform between 0 and the ceiling (full jitter). After a 401/403 the wait is at least half of it.',
      ),
  })
  .refine((backoff) => backoff.baseMs <= backoff.maxMs, {
    message: 'baseMs must not exceed maxMs',
    path: ['baseMs'],
  })
  .describe('Backoff between failed control-plane calls, reset by the first success.');

/** The `controlPlane` section (DESIGN §4). Absent: standalone mode, jobs from the config file. */
export const ControlPlaneSettingsSchema = z
  .strictObject({
    url: z
      .string()
      .superRefine(
        urlRefinement({
          example: 'https://cp.example.com',
          credentialKey: 'controlPlane.agentToken',
        }),
      )
      .transform((url) => url.replace(/\/+$/, ''))
      .describe(
        'Base URL of the control plane, e.g. https://cp.example.com; calls go to {url}/v1/...',
      ),
    agentToken: z
      .string()
      .regex(
        SECRET_REF_PATTERN,
        'must be a secret reference (e.g. file:///var/run/secrets/perimeter/agent-token), never the token itself',
      )
      .describe('Secret reference of the agent token, re-read for every call (rotation-safe).'),
    publicKey: z
      .string()
      .superRefine(checkPublicKeyPem)
      .optional()
      .describe(
        'Pinned Ed25519 public key (PEM SPKI); when set, every instruction must be signed.',
      ),
    publicKeyFile: z
      .string()
      .min(1)
      .optional()
      .describe('File holding the pinned Ed25519 public key (PEM SPKI), read at start.'),
    clientCertFile: z
      .string()
      .min(1)
      .optional()
      .describe('PEM client certificate for mTLS to the control plane; needs clientKeyFile.'),
    clientKeyFile: z
      .string()
      .min(1)
      .optional()
      .describe('Path of the PEM private key of clientCertFile, read at start (never inline).'),
    pollWaitSeconds: z
      .int()
      .min(0)
      .max(MAX_POLL_WAIT_SECONDS)
      .default(25)
      .describe(
        'How long the control plane may hold a long-poll open (`wait`); a heartbeat reply may change it.',
      ),
    heartbeatIntervalSeconds: z
      .number()
      .min(0.01)
      .max(3600)
      .default(30)
      .describe('Seconds between heartbeats; a heartbeat reply may change it (within 1 to 3600).'),
    backoff: ControlPlaneBackoffSchema.prefault({}),
    maxClockSkewSeconds: z
      .int()
      .min(0)
      .max(3600)
      .default(300)
      .describe('Tolerated clock difference when checking issuedAt and expiresAt of instructions.'),
    freshnessSeconds: z
      .number()
      .positive()
      .max(86_400)
      .optional()
      .describe(
        'The link counts as fresh (/readyz) while a poll or heartbeat succeeded this recently. Default: 3 × pollWaitSeconds, at least 3.',
      ),
    eventBatchMax: z
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe('Most run events read from the outbox at once; each run gets one POST per read.'),
  })
  .superRefine(checkFilePairs)
  .describe(
    'The control plane the link polls. Absent: standalone mode (jobs from the config file).',
  );

/** The parsed `controlPlane` section. */
export type ControlPlaneSettings = z.output<typeof ControlPlaneSettingsSchema>;

/** What the link reads from files at start: the pinned key and the mTLS certificate. */
export interface ControlPlaneFiles {
  readonly publicKey: KeyObject | undefined;
  readonly clientCert: { readonly certPem: string; readonly keyPem: string } | undefined;
}

/** How long after the last successful poll or heartbeat the link still counts as fresh. */
export function freshnessMs(settings: ControlPlaneSettings): number {
  return (settings.freshnessSeconds ?? Math.max(3, 3 * settings.pollWaitSeconds)) * 1000;
}

/**
 * The destination policy of the control-plane client: its host only, reads (the long-poll) and
 * the three POSTs of the protocol below the configured base path.
 */
export function controlPlaneDestinationPolicy(
  settings: Pick<ControlPlaneSettings, 'url'>,
): DestinationPolicy {
  return servicePolicy(settings.url, [
    '/v1/agents/*/heartbeat',
    '/v1/instructions/*/ack',
    '/v1/runs/*/events',
  ]);
}

/**
 * Reads the pinned public key and the mTLS pair (see {@link readPinnedKey} and
 * {@link readClientCert}). A missing or unreadable file is CONFIG_INVALID naming the key,
 * reported at start before any poll.
 */
export function readControlPlaneFiles(settings: ControlPlaneSettings): ControlPlaneFiles {
  return { publicKey: readPinnedKey(settings), clientCert: readClientCert(settings) };
}

/** The pinned Ed25519 key, inline (`publicKey`) or from `publicKeyFile`; undefined when neither. */
export function readPinnedKey(
  settings: Pick<ControlPlaneSettings, 'publicKey' | 'publicKeyFile'>,
): KeyObject | undefined {
  if (settings.publicKey !== undefined) {
    return parseEd25519PublicKey(settings.publicKey, 'controlPlane.publicKey');
  }
  if (settings.publicKeyFile !== undefined) {
    const pem = readSettingFile(settings.publicKeyFile, 'controlPlane.publicKeyFile');
    return parseEd25519PublicKey(pem, 'controlPlane.publicKeyFile');
  }
  return undefined;
}

/** The mTLS client certificate and key, read from their files; undefined when not configured. */
export function readClientCert(
  settings: Pick<ControlPlaneSettings, 'clientCertFile' | 'clientKeyFile'>,
): ControlPlaneFiles['clientCert'] {
  const { clientCertFile, clientKeyFile } = settings;
  if (clientCertFile === undefined || clientKeyFile === undefined) {
    return undefined;
  }
  return {
    certPem: readSettingFile(clientCertFile, 'controlPlane.clientCertFile'),
    keyPem: readSettingFile(clientKeyFile, 'controlPlane.clientKeyFile'),
  };
}

function parseEd25519PublicKey(pem: string, path: string): KeyObject {
  const problem = publicKeyProblem(pem);
  if (problem !== undefined) {
    throw new PerimeterError('CONFIG_INVALID', `${path} ${problem}.`, { context: { path } });
  }
  return createPublicKey(pem);
}

function publicKeyProblem(pem: string): string | undefined {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    return key.asymmetricKeyType === 'ed25519'
      ? undefined
      : `is a ${key.asymmetricKeyType ?? 'unknown'} key; instructions are signed with Ed25519 (alg EdDSA)`;
  } catch {
    return 'is not a PEM public key (-----BEGIN PUBLIC KEY-----, SPKI)';
  }
}

function readSettingFile(file: string, path: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (coerceError(error) as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new PerimeterError(
      'CONFIG_INVALID',
      `${path}: ${file} cannot be read (${code}); check the path and the mount.`,
      { cause: error, context: { path, file } },
    );
  }
}

function checkPublicKeyPem(value: string, ctx: z.RefinementCtx): void {
  const problem = publicKeyProblem(value);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
  }
}

function checkFilePairs(
  settings: {
    publicKey?: string;
    publicKeyFile?: string;
    clientCertFile?: string;
    clientKeyFile?: string;
  },
  ctx: z.RefinementCtx,
): void {
  if (settings.publicKey !== undefined && settings.publicKeyFile !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['publicKeyFile'],
      message: 'give publicKey or publicKeyFile, not both',
    });
  }
  if ((settings.clientCertFile === undefined) !== (settings.clientKeyFile === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [settings.clientCertFile === undefined ? 'clientCertFile' : 'clientKeyFile'],
      message: 'clientCertFile and clientKeyFile go together (mTLS needs both)',
    });
  }
}
