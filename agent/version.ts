import packageJson from '../package.json' with { type: 'json' };

/** Perimeter's version, from package.json. */
export const VERSION: string = packageJson.version;

/** The User-Agent of every outbound request. */
export const USER_AGENT = `perimeter/${VERSION}`;
