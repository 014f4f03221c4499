import { sourceAllowList } from '../../local/http-server';

describe('sourceAllowList (the local stand-in for the API resource policy)', () => {
  const allowed = sourceAllowList(['203.0.113.0/24', '127.0.0.1/32', '2001:db8::/32']);

  it.each([['203.0.113.77'], ['127.0.0.1'], ['::ffff:127.0.0.1'], ['2001:db8::1']])('allows %s', (ip) => {
    expect(allowed?.(ip)).toBe(true);
  });

  it.each([['203.0.114.1'], ['127.0.0.2'], ['10.0.0.1'], ['2001:db9::1'], ['not an ip']])('refuses %s', (ip) => {
    expect(allowed?.(ip)).toBe(false);
  });

  it('is off when no range is configured', () => {
    expect(sourceAllowList([])).toBeUndefined();
  });
});
