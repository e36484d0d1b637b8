/** Host suffix of the public cloud's vaults: a short vault name stands for `<name>` + this. */
export const PUBLIC_VAULT_SUFFIX = '.vault.azure.net';

// Key Vault names: 3-24 characters, a letter first, letters/digits/dashes, no `--`, no dash last.
const SHORT_NAME = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/;
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The vault host a reference or setting means, lower-cased: a short name becomes
 * `<name>.vault.azure.net`; a host name (it has a dot: sovereign clouds, private DNS) stays.
 * Undefined when it is neither.
 */
export function normalizeVault(vault: string): string | undefined {
  const lower = vault.toLowerCase();
  if (!lower.includes('.')) {
    return SHORT_NAME.test(lower) ? `${lower}${PUBLIC_VAULT_SUFFIX}` : undefined;
  }
  const labels = lower.split('.');
  const valid =
    lower.length <= 253 && labels.length >= 2 && labels.every((label) => HOST_LABEL.test(label));
  return valid ? lower : undefined;
}

/**
 * The token scope of a vault host: its resource is the host without the vault's own label
 * (`contoso.vault.azure.net` → `https://vault.azure.net/.default`). Used by the readiness probe,
 * which has no challenge to read the resource from.
 */
export function scopeOfVault(host: string): string {
  return `https://${host.slice(host.indexOf('.') + 1)}/.default`;
}
