import { publishProperties } from './publish-properties';

describe('publishProperties (what a message carries past the broker)', () => {
  it('keeps the very object when it holds only properties a PUBLISH passes on', () => {
    const properties = {
      contentType: 'application/json',
      userProperties: { site: 'hall-2' },
      messageExpiryInterval: 60,
      topicAlias: undefined, // cleared by Aedes: absent
    };
    expect(publishProperties(properties)).toBe(properties);
  });

  it("drops a will's delay and CONNECT's properties, keeping the rest", () => {
    const properties = {
      contentType: 'text/plain',
      willDelayInterval: 2,
      sessionExpiryInterval: 60,
      subscriptionIdentifier: 3,
    } as Parameters<typeof publishProperties>[0];
    expect(publishProperties(properties)).toEqual({ contentType: 'text/plain' });
    // The original is left as it was (Aedes may still hold it).
    expect(properties).toHaveProperty('willDelayInterval', 2);
  });

  it('is null when nothing may pass on', () => {
    const properties = { willDelayInterval: 2 } as Parameters<typeof publishProperties>[0];
    expect(publishProperties(properties)).toBeNull();
  });
});
