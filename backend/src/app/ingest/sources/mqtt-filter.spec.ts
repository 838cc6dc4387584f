import {
  compileFilter,
  levelsMatch,
  prefixMatcher,
  topicMatches,
  topicPrefix,
} from './mqtt-filter';

describe('MQTT topic filters', () => {
  const filters = ['devices/+/telemetry', 'a/#', '#', '+', '+/+', 'a/+/c/#', 'tele/+/SENSOR', 'a'];
  const topics = [
    'devices/d1/telemetry',
    'devices/d1/telemetry/x',
    'devices/d1',
    'devices//telemetry',
    'a',
    'a/',
    'a/b',
    'a/b/c',
    'a/b/c/d',
    'b',
    '$SYS/x',
    '/',
    '',
    'tele/plug-7/SENSOR',
    'tele/plug-7/SENSORS',
    'devices/d1/telemetr',
  ];

  it('match the way MQTT says: + one level, # the rest or nothing, $ topics not by a first-level wildcard', () => {
    const match = (filter: string, topic: string) => compileFilter(filter)(topic) !== null;
    expect(match('devices/+/telemetry', 'devices/d1/telemetry')).toBe(true);
    expect(match('devices/+/telemetry', 'devices/d1/telemetry/x')).toBe(false);
    expect(match('a/#', 'a')).toBe(true);
    expect(match('a/#', 'a/b/c')).toBe(true);
    expect(match('#', '$SYS/x')).toBe(false);
    expect(match('+/+', '/')).toBe(true);
  });

  it('give the same answer with the topic split (levelsMatch) or not (topicMatches)', () => {
    for (const filter of filters)
      for (const topic of topics)
        expect([filter, topic, topicMatches(filter.split('/'), topic)]).toEqual([
          filter,
          topic,
          levelsMatch(filter.split('/'), topic.split('/')),
        ]);
  });

  it("match the filters under a source filter's literal prefix (what a bridge may read)", () => {
    const covered = (source: string, filter: string) => prefixMatcher(source)?.(filter) ?? false;
    for (const filter of [
      'zigbee2mqtt/#',
      'zigbee2mqtt/+/set',
      'zigbee2mqtt/bridge/request/#',
      'zigbee2mqtt',
    ])
      expect([filter, covered('zigbee2mqtt/#', filter)]).toEqual([filter, true]);
    for (const filter of [
      '#',
      '+/#',
      'zigbee2mqttx/#',
      'zigbee/#',
      'a/zigbee2mqtt/#',
      'zigbee2mqtt/#/x',
    ])
      expect([filter, covered('zigbee2mqtt/#', filter)]).toEqual([filter, false]);
    expect(covered('tele/+/SENSOR', 'tele/#')).toBe(true);
    expect(covered('homeassistant/+/+/config', 'homeassistant/status')).toBe(true);
    // A topic without a wildcard is its own and only prefix.
    expect(covered('zigbee2mqtt/bridge/state', 'zigbee2mqtt/bridge/state')).toBe(true);
    expect(covered('zigbee2mqtt/bridge/state', 'zigbee2mqtt/bridge/state/#')).toBe(false);
    // A filter that starts with a wildcard has no prefix: everything would lie under it.
    expect(prefixMatcher('+/status')).toBeNull();
    expect(prefixMatcher('#')).toBeNull();
  });

  it('gives the same prefix as a string, for topics', () => {
    expect(topicPrefix('zigbee2mqtt/#')).toEqual({ prefix: 'zigbee2mqtt', exact: false });
    expect(topicPrefix('homeassistant/+/+/config')).toEqual({
      prefix: 'homeassistant',
      exact: false,
    });
    expect(topicPrefix('zigbee2mqtt/bridge/state')).toEqual({
      prefix: 'zigbee2mqtt/bridge/state',
      exact: true,
    });
    expect(topicPrefix('+/status')).toBeNull();
  });
});
