import { PerimeterError } from '../plugin-api/index.ts';
import type { SecretRef, SecretStoreDefinition } from '../plugin-api/index.ts';
import type { StoreClients } from './clients.ts';
import type { PayloadRequest } from './fetcher.ts';
import { compileGlob, matchesAny } from './glob.ts';
import type { Glob } from './glob.ts';
import { IMPLICIT_ALLOW } from './profiles.ts';
import type { ResolvedProfile } from './profiles.ts';
import { parseSecretRef } from './ref.ts';

/** A reference ready to read: parsed, canonical, within every allowlist. */
export interface Target extends PayloadRequest {
  readonly ref: SecretRef;
}

/**
 * Turns reference text into a {@link Target} without any network call: parse, pick the profile,
 * let the store canonicalise, then check the profile allowlist and the inline allowlist.
 */
export class TargetFinder {
  readonly #stores: readonly SecretStoreDefinition[];
  readonly #profiles: ReadonlyMap<string, ResolvedProfile>;
  readonly #clients: StoreClients;
  readonly #inlineGlobs = new Map<string, Glob>();

  constructor(
    stores: readonly SecretStoreDefinition[],
    profiles: ReadonlyMap<string, ResolvedProfile>,
    clients: StoreClients,
  ) {
    this.#stores = stores;
    this.#profiles = profiles;
    this.#clients = clients;
  }

  /** Parses a reference against the registered stores (SECRET_INVALID_REF). */
  parse(ref: string): SecretRef {
    return parseSecretRef(ref, this.#stores);
  }

  /** Parse, profile, canonical form, allowlists: everything that needs no network. */
  find(text: string, allowRefs: readonly string[] | undefined): Target {
    const ref = this.parse(text);
    const profile = this.#profileFor(ref);
    const canonical = this.#clients.get(profile).canonicalize(ref);
    const display = `${ref.scheme}://${canonical.locator}${canonical.version === undefined ? '' : `?version=${canonical.version}`}`;
    if (!matchesAny(profile.allow, canonical.locator)) {
      throw new PerimeterError('SECRET_REF_DENIED', this.#outsideAllowlist(profile), {
        context: { ref: display, profile: profile.name },
      });
    }
    if (
      allowRefs !== undefined &&
      !matchesAny(this.#inlineAllowlist(allowRefs), `${ref.scheme}://${canonical.locator}`)
    ) {
      throw new PerimeterError(
        'SECRET_REF_DENIED',
        "The reference is outside the connector's inline allowlist for control-plane connections. Add a matching glob to policy.connectors.<connector>.inlineSecretRefs if it should be readable",
        { context: { ref: display, profile: profile.name } },
      );
    }
    const key = [profile.name, ref.scheme, canonical.locator, canonical.version ?? ''].join(
      '\u0000',
    );
    return { ref, profile, canonical, key, display, maxAgeSeconds: ref.maxAgeSeconds };
  }

  /** Why a reference is outside its profile's allowlist, naming the profile as configured. */
  #outsideAllowlist(profile: ResolvedProfile): string {
    if (!profile.implicit) {
      return `The reference is outside the allowlist of secretStores.${profile.name}. Add a matching glob to secretStores.${profile.name}.allow if it should be readable`;
    }
    const scheme = profile.store.scheme;
    const others = this.#namesOfType(scheme).filter((name) => !name.startsWith(`${scheme} `));
    const name =
      others.length === 0
        ? `or configure secretStores.${scheme} (type: ${scheme}) with an allow list`
        : `or name one of the configured ${scheme} profiles (${others.join(', ')}) with ?store=<profile>`;
    const allowed = (IMPLICIT_ALLOW[scheme] ?? []).join(', ');
    return `The reference has no ?store=, so the built-in ${scheme} profile applies, and it allows only ${allowed}. Move the secret there, ${name}`;
  }

  /** Names of the profiles (configured or built-in) of one store type. */
  #namesOfType(scheme: string): string[] {
    return [...this.#profiles.values()]
      .filter((profile) => profile.store.scheme === scheme)
      .map((profile) => (profile.implicit ? `${profile.name} (built-in)` : profile.name));
  }

  #profileFor(ref: SecretRef): ResolvedProfile {
    const profile = this.#profiles.get(ref.profile);
    if (profile === undefined) {
      const names = this.#namesOfType(ref.scheme);
      const which =
        names.length > 0
          ? `profiles of type ${ref.scheme}: ${names.join(', ')}; name one with ?store=<profile>`
          : ref.profile === ref.scheme
            ? `there is no profile of type ${ref.scheme}; add secretStores.${ref.scheme} (type: ${ref.scheme}, allow: [...]), the default profile of ${ref.scheme}:// references`
            : `there is no profile of type ${ref.scheme}; add secretStores.${ref.profile} (type: ${ref.scheme}, allow: [...])`;
      const what =
        ref.profile === ref.scheme
          ? `${ref.scheme}:// references without ?store= use the profile "${ref.scheme}", which is not configured`
          : `No secret store profile "${ref.profile}" (named by ?store=)`;
      throw new PerimeterError('SECRET_INVALID_REF', `${what}: ${which}`, {
        context: { ref: ref.raw, profile: ref.profile },
      });
    }
    if (profile.store.scheme !== ref.scheme) {
      throw new PerimeterError(
        'SECRET_INVALID_REF',
        `The profile "${profile.name}" is of type ${profile.store.scheme}; a ${ref.scheme}:// reference needs a profile of type ${ref.scheme}`,
        { context: { ref: ref.raw, profile: profile.name } },
      );
    }
    return profile;
  }

  #inlineAllowlist(patterns: readonly string[]): Glob[] {
    return patterns.map((pattern) => {
      let glob = this.#inlineGlobs.get(pattern);
      if (glob === undefined) {
        glob = compileGlob(pattern);
        this.#inlineGlobs.set(pattern, glob);
      }
      return glob;
    });
  }
}
