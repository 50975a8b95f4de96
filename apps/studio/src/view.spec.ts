import { InputError } from './cli/args';
import { embeddedEnv, parseViewArgs, VIEW_DEFAULTS } from './view';

describe('studio view options', () => {
  it('defaults to the tiny model on 127.0.0.1:3000 with the data in .data/studio-view', () => {
    expect(parseViewArgs([])).toEqual({
      host: '127.0.0.1',
      port: 3000,
      dataDir: '.data/studio-view',
      model: 'tiny',
      tenant: 'local',
      logLevel: 'warn',
    });
    expect(VIEW_DEFAULTS.model).toBe('tiny');
  });

  it('takes the port, host, data folder, model, tenant and log level', () => {
    expect(
      parseViewArgs([
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--data-dir',
        '/tmp/s',
        '--model',
        'smollm2-135m-instruct',
        '--tenant',
        'acme',
        '--log-level',
        'info',
      ]),
    ).toEqual({ host: '0.0.0.0', port: 0, dataDir: '/tmp/s', model: 'smollm2-135m-instruct', tenant: 'acme', logLevel: 'info' });
  });

  it.each([
    [['--port', '70000'], /--port must be 0-65535/],
    [['--port', 'http'], /--port must be a number/],
    [['--tenant', 'a b'], /--tenant must be/],
    [['--log-level', 'loud'], /--log-level must be fatal, error, warn, info or debug/],
    [['--model', ''], /--model must not be empty/],
    [['--teacher'], /Unknown option '--teacher'/],
    [['policy.md'], /positional/],
  ])('refuses %j naming the problem', (argv, message) => {
    expect(() => parseViewArgs(argv)).toThrow(InputError);
    expect(() => parseViewArgs(argv)).toThrow(message);
  });

  it('configures every service for the embedded profile of one data folder, on loopback, with one service credential', () => {
    expect(embeddedEnv('/data/studio', 'warn', 'token-of-this-process')).toEqual({
      STUDIO_PROFILE: 'embedded',
      STUDIO_DATA_DIR: '/data/studio',
      STUDIO_ARTIFACT_DIR: '/data/studio/artifacts',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SERVICE_TOKEN: 'token-of-this-process',
    });
  });
});
