import { describe, expect, it } from 'vitest';
import { fastSettings } from '../../test/helpers/loopback.ts';
import { proxyFor } from './proxy-route.ts';

const via = (url: string, overrides: Record<string, unknown>): string | undefined =>
  proxyFor(new URL(url), fastSettings(overrides))?.href;

describe('proxyFor', () => {
  it('sends https through httpsProxy, else httpProxy, and http through httpProxy only', () => {
    const both = { httpsProxy: 'http://s.corp:3128', httpProxy: 'http://p.corp:3128' };
    expect(via('https://api.cyera.io/', both)).toBe('http://s.corp:3128/');
    expect(via('http://api.cyera.io/', both)).toBe('http://p.corp:3128/');
    expect(via('https://api.cyera.io/', { httpProxy: 'http://p.corp:3128' })).toBe(
      'http://p.corp:3128/',
    );
    expect(via('http://api.cyera.io/', { httpsProxy: 'http://s.corp:3128' })).toBeUndefined();
  });

  it.each([
    ['api.cyera.io', 'https://api.cyera.io/', true],
    ['cyera.io', 'https://api.cyera.io/', true],
    ['.cyera.io', 'https://cyera.io/', true],
    ['*.cyera.io', 'https://cyera.io/', false],
    ['*.cyera.io', 'https://api.cyera.io/', true],
    ['api.cyera.io:443', 'https://api.cyera.io/', true],
    ['api.cyera.io:8443', 'https://api.cyera.io/', false],
    ['[::1]:8443', 'https://[::1]:8443/', true],
    ['example.com, *', 'https://api.cyera.io/', true],
    ['yera.io', 'https://api.cyera.io/', false],
  ])('with noProxy %j, %s goes direct: %s', (noProxy, url, direct) => {
    const proxy = via(url, { httpsProxy: 'http://s.corp:3128', noProxy });
    expect(proxy === undefined).toBe(direct);
  });
});
