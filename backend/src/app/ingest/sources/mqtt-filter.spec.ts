import { compileFilter, levelsMatch, topicMatches } from './mqtt-filter';

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
});
