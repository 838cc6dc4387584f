import * as ws from 'ws';
import { textFrame } from './engine-adapter';

/** ws' frame builder (not in @types/ws). */
const Sender = (
  ws as unknown as {
    Sender: {
      frame(data: Buffer, options: Record<string, unknown>): Buffer[];
    };
  }
).Sender;

describe('textFrame', () => {
  // The frame written straight to websocket clients must be byte-for-byte what `ws` would send.
  it.each([0, 5, 125, 126, 65_535, 65_536, 300_000])(
    'matches ws for a %i-byte payload (all three length encodings)',
    (length) => {
      const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2);
      const expected = Buffer.concat(
        Sender.frame(Buffer.from(text), {
          fin: true,
          opcode: 1,
          mask: false,
          readOnly: false,
          rsv1: false,
        }),
      );
      expect(textFrame(text).equals(expected)).toBe(true);
    },
  );
});
