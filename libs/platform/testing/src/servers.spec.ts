import { MissingServerError, requireServer } from './servers';

describe('requireServer', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('prefers the environment', () => {
    process.env['REDIS_URL'] = 'redis://example:1';
    expect(requireServer('REDIS_URL')).toBe('redis://example:1');
  });

  it('fails in CI when a server is missing', () => {
    delete process.env['QDRANT_URL'];
    process.env['STUDIO_DATA_DIR'] = '/nonexistent';
    process.env['CI'] = 'true';
    expect(() => requireServer('QDRANT_URL')).toThrow(MissingServerError);
  });

  it('returns undefined locally so the suite can skip with a reason', () => {
    delete process.env['QDRANT_URL'];
    process.env['STUDIO_DATA_DIR'] = '/nonexistent';
    delete process.env['CI'];
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(requireServer('QDRANT_URL')).toBeUndefined();
  });
});
