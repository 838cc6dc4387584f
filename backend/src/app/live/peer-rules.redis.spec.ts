import { Logger } from '@nestjs/common';
import { AlertRule, RulesVersion } from '@pulse/protocol';
import { waitFor } from '@pulse/test-support';
import { parseAlertRule } from '../alerts/alert-rules.loader';
import { AlertsService } from '../alerts/alerts.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { PeerRules } from './peer-rules';
import { useRedisNamespaces } from './testing/redis-namespaces';
import { hot } from '../alerts/testing/alert-engine.harness';

const cold = parseAlertRule({
  id: 'cold',
  kind: 'threshold',
  metric: 't',
  op: 'below',
  value: 0,
  severity: 'minor',
});

/** What a gateway of another version, a bug or anyone who can publish on Redis might send. */
type Crafted = unknown;

// Real: a redis-server, gateways' `/live` namespaces on Socket.IO servers with the Redis adapter
// between them (as LiveIoAdapter installs it), a gateway's real alerts service and PeerRules; the
// "other gateway" that sends crafted events and answers is such a namespace too.
describe('PeerRules over Redis: what another gateway sends is checked', () => {
  const closing: (() => void)[] = [];
  const errors: string[] = [];

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const keep = (line: unknown) => void errors.push(String(line));
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(keep);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(keep);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    errors.length = 0;
    closing.splice(0).forEach((close) => close());
  });
  const { namespace, joined } = useRedisNamespaces();

  /** A gateway: its real alerts service and engine (no file, no store), its PeerRules bound. */
  async function gateway() {
    const { nsp, peers } = await namespace();
    const registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
    const hub = { publishAlert: () => undefined };
    const alerts = new AlertsService({ ALERT_RULES_FILE: undefined }, [hot], registry, hub);
    const sut = new PeerRules(alerts, peers);
    closing.push(() => sut.onApplicationShutdown());
    sut.bind(nsp);
    return { alerts, nsp };
  }

  it("a peer's catch-up question with a malformed version is refused (null), counted and logged; a valid one is answered", async () => {
    const gw = await gateway();
    await gw.alerts.createRule(cold); // it runs a set with a version: it has something to offer
    const other = await namespace();
    await joined(other.nsp, 2);
    const ask = (since: Crafted) => other.nsp.serverSideEmitWithAck('pulse:rules-since', since);

    const crafted: Crafted[] = [
      null,
      'since',
      { at: '0', by: '' },
      { at: 0, by: 7 },
      { at: 0, by: 'x'.repeat(65) },
      { at: 1e300, by: 'gw-x' },
    ];
    for (const since of crafted) expect(await ask(since)).toEqual([null]);
    expect(gw.alerts.stats()).toMatchObject({ rulesCatchUpsInvalid: crafted.length });
    expect(errors.join('\n')).toMatch(/malformed rules version from another gateway/);

    expect(await ask({ at: 0, by: '' })).toEqual([
      { rules: gw.alerts.rules(), version: gw.alerts.currentRulesVersion() },
    ]);
  }, 20_000);

  it("a peer's malformed rules change or catch-up answer changes nothing, each counted and logged; a valid one after them is run", async () => {
    const other = await namespace();
    let offer: Crafted = null;
    other.nsp.on('pulse:rules-since', (_since, answer) => answer(offer as never));
    const gw = await gateway();
    await joined(other.nsp, 2);
    await joined(gw.nsp, 2);

    const version = (at: number): RulesVersion => ({ at, by: 'gw-x' });
    const now = Date.now();
    const changes: Crafted[] = [
      'rules',
      { rules: 'cold', version: version(now) },
      { rules: [cold], version: 'now' },
      { rules: [{ id: 'cold' }], version: version(now) },
    ];
    for (const change of changes) other.nsp.serverSideEmit('pulse:rules', change as never);
    await waitFor(() => (gw.alerts.stats().rulesFromPeersInvalid ?? 0) >= 4 || undefined, {
      message: 'the four changes refused',
    });
    // Each reason logged (at most a line per reason per 10 s).
    const refusals = errors.filter((line) => /rules from a peer gateway refused/.test(line));
    expect(refusals).toEqual([
      expect.stringContaining('a malformed version'),
      expect.stringContaining('not a list of at most 1000 rules: "cold"'),
      expect.stringContaining('Invalid alert rules in a peer gateway'),
    ]);

    // The next catch-up (1 s and 3 s after the start) hears an answer that is no offer.
    offer = { rules: [cold] }; // no version
    await waitFor(() => (gw.alerts.stats().rulesFromPeersInvalid ?? 0) >= 5 || undefined, {
      message: 'the answer without a version refused',
    });
    expect(gw.alerts.rules()).toEqual([hot]);

    const valid: { rules: AlertRule[]; version: RulesVersion } = {
      rules: [cold],
      version: version(Date.now()),
    };
    other.nsp.serverSideEmit('pulse:rules', valid);
    await waitFor(() => gw.alerts.rules()[0]?.id === 'cold' || undefined, {
      message: 'the valid change run',
    });
    expect(gw.alerts.stats()).toMatchObject({ rulesFromPeers: 1 });
  }, 20_000);
});
