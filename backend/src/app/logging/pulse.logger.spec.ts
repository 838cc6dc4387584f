import { PulseLogger } from './pulse.logger';

describe('PulseLogger', () => {
  let written: string[];
  beforeEach(() => {
    written = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it("hides Nest's per-route boot lines at level log but keeps Pulse's own", () => {
    const sut = new PulseLogger(['fatal', 'error', 'warn', 'log']);
    sut.log('Mapped {/api/health, GET} route', 'RouterExplorer');
    sut.log('AppModule dependencies initialized', 'InstanceLoader');
    sut.log('dashboard   http://localhost:3000/', 'Pulse');
    expect(written.join('')).not.toContain('Mapped');
    expect(written.join('')).not.toContain('dependencies initialized');
    expect(written.join('')).toContain('dashboard   http://localhost:3000/');
  });

  it('shows everything at debug', () => {
    const sut = new PulseLogger(['fatal', 'error', 'warn', 'log', 'debug']);
    sut.log('Mapped {/api/health, GET} route', 'RouterExplorer');
    expect(written.join('')).toContain('Mapped');
  });
});
