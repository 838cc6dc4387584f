import { bridgeUsername, BRIDGE_USERNAME_PREFIX } from './device-credentials';
import { BridgeNameSchema, CreateBridgeCredentialRequestSchema } from './device-credentials.schema';
import { isValidId } from './ids';

describe('bridge credentials', () => {
  it('takes an id as the name', () => {
    expect(CreateBridgeCredentialRequestSchema.parse({ name: 'z2m-house' })).toEqual({
      name: 'z2m-house',
    });
  });

  it.each([[''], ['bridge:x'], ['a/b'], ['z2m#'], ['x'.repeat(65)], [7]])(
    'refuses the name %j',
    (name) => {
      expect(BridgeNameSchema.safeParse(name).success).toBe(false);
    },
  );

  it('refuses other fields', () => {
    expect(CreateBridgeCredentialRequestSchema.safeParse({ name: 'a', secret: 'x' }).success).toBe(
      false,
    );
  });

  it('makes a username no device id can be', () => {
    expect(bridgeUsername('house')).toBe(`${BRIDGE_USERNAME_PREFIX}house`);
    expect(isValidId(bridgeUsername('house'))).toBe(false);
  });
});
