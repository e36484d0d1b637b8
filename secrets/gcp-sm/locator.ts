import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { CanonicalSecretRef, SecretRef } from '../../agent/plugin-api/index.ts';
import { PROJECT_PATTERN } from './profile.ts';

const SECRET_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
const LOCATION_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;
const VERSION_PATTERN = /^(?:latest|[1-9]\d{0,18})$/;
const FULL_NAME =
  /^projects\/([^/]+)(?:\/locations\/([^/]+))?\/secrets\/([^/]+)(?:\/versions\/([^/]+))?$/;

const EXPECTED =
  'Expected gcp-sm://<project>/<secret>[?version=<n>|latest][&location=<region>] or gcp-sm://projects/<project>[/locations/<region>]/secrets/<secret>[/versions/<n>]';

interface ParsedName {
  readonly project: string;
  readonly location: string | undefined;
  readonly secret: string;
  readonly version: string | undefined;
}

function invalid(ref: SecretRef, problem: string): PerimeterError {
  return new PerimeterError(
    'SECRET_INVALID_REF',
    `Invalid gcp-sm reference: ${problem}. ${EXPECTED}`,
    {
      context: { store: 'gcp-sm', ref: ref.raw },
    },
  );
}

function parseName(ref: SecretRef): ParsedName {
  const full = FULL_NAME.exec(ref.locator);
  if (full !== null) {
    const [, project = '', location, secret = '', version] = full;
    return { project, location, secret, version };
  }
  const parts = ref.locator.split('/');
  const [project = '', secret = ''] = parts;
  if (parts.length !== 2 || project === 'projects') {
    throw invalid(ref, 'the locator is neither <project>/<secret> nor a full resource name');
  }
  return { project, location: undefined, secret, version: undefined };
}

function pick(
  ref: SecretRef,
  what: string,
  fromName: string | undefined,
  fromParam: string | undefined,
): string | undefined {
  if (fromName !== undefined && fromParam !== undefined && fromName !== fromParam) {
    throw invalid(ref, `the ${what} in the resource name and ?${what}= disagree`);
  }
  return fromName ?? fromParam;
}

/**
 * Validates a `gcp-sm://` reference against the profile's projects and returns its canonical
 * form: the secret's resource name (`projects/<p>[/locations/<l>]/secrets/<s>`) as locator, the
 * numeric version (undefined for `latest`) and, in details, the version's resource name.
 */
export function canonicalizeGcpRef(
  ref: SecretRef,
  allowedProjects: readonly string[],
): CanonicalSecretRef {
  const name = parseName(ref);
  const location = pick(ref, 'location', name.location, ref.params['location']);
  const version = pick(ref, 'version', name.version, ref.version) ?? 'latest';
  if (!PROJECT_PATTERN.test(name.project)) {
    throw invalid(ref, 'the project is not a valid project id or number');
  }
  if (!SECRET_PATTERN.test(name.secret)) {
    throw invalid(ref, 'a secret id has 1-255 letters, digits, "_" or "-"');
  }
  if (location !== undefined && !LOCATION_PATTERN.test(location)) {
    throw invalid(ref, 'the location must be a region name such as europe-west1');
  }
  if (!VERSION_PATTERN.test(version)) {
    throw invalid(ref, 'the version must be a positive integer or "latest"');
  }
  if (!allowedProjects.includes(name.project)) {
    throw new PerimeterError(
      'SECRET_REF_DENIED',
      `Project ${name.project} is not in this profile's allowedProjects. Add it to secretStores.<profile>.allowedProjects if Perimeter should read from it`,
      { context: { store: 'gcp-sm', ref: ref.raw, project: name.project } },
    );
  }
  const locationPart = location === undefined ? '' : `/locations/${location}`;
  const secretName = `projects/${name.project}${locationPart}/secrets/${name.secret}`;
  const pinned = version !== 'latest';
  return {
    locator: secretName,
    version: pinned ? version : undefined,
    pinned,
    details: {
      versionName: `${secretName}/versions/${version}`,
      location: location ?? '',
    },
  };
}
