/** The simulator service of docker-compose.yml passes flags this CLI accepts (checked statically: no Docker engine here). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from './config';

describe('docker-compose simulator service', () => {
  it('runs with flags the CLI accepts, against the compose broker', () => {
    const compose = parse(readFileSync(resolve(__dirname, '../../../docker-compose.yml'), 'utf8'));
    const command: string[] = compose.services.simulator.command;
    const result = parseConfig(command);
    expect(result).toMatchObject({
      ok: true,
      config: { url: 'mqtt://mosquitto:1883', quiet: true },
    });
  });
});
